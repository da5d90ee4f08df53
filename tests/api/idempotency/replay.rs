//! Retries: the first answer comes back and nothing changes, whatever happened to the
//! list since; another request under the same key is 422; refusals (4xx, 503) are not
//! stored; `If-Match` is checked when a request is decided, never on a replay.

use super::{
    add, all_keys, assert_decided, assert_replay, current_tag, favorites_path, keyed, keys_of,
    remove, replace, reset, rows_of_key, text, Write, KEY, WRITES,
};
use crate::helpers::{assert_json, assert_problem, store_tests, TestApp, TestUser};
use crate::host::{io, messages, HostResponse};

store_tests!(
    a_retry_of_each_write_gets_the_first_answer_and_changes_nothing,
    the_same_key_for_another_request_is_422_and_changes_nothing,
    keys_of_two_users_are_their_own,
    a_refused_request_is_not_stored_and_its_retry_is_decided_afresh,
    a_503_is_not_stored_and_its_retry_is_decided_afresh,
    if_match_is_checked_when_deciding_never_on_a_replay,
);

fn a_retry_of_each_write_gets_the_first_answer_and_changes_nothing(app: TestApp) {
    let ash = app.user("ash");
    for write in WRITES {
        reset(&app, &ash);
        let key = format!("retry-{write:?}");
        let first = write.by(&app, &ash, &keyed(&key));
        assert_decided(&first, write.ok());
        assert_eq!(app.favorite_ids_in_db(ash.id), write.after(), "{write:?}");
        let tag = current_tag(&app, &ash);
        assert_eq!(first.header("etag"), Some(tag.as_str()), "{write:?}");
        if let Write::Add = write {
            let location = format!("{}/25", favorites_path(&ash));
            assert_eq!(first.header("location"), Some(location.as_str()));
        }
        assert_eq!(rows_of_key(&app, ash.id, &key), 1, "{write:?}: stored");
        assert_body_is_the_list(&app, &ash, write, &first);
        let written = app.dump();
        for attempt in 1..=2 {
            let again = write.by(&app, &ash, &keyed(&key));
            assert_replay(&first, &again);
            assert_eq!(app.dump(), written, "{write:?}, retry {attempt}");
        }
        // The list changed once: its version is still the first answer's.
        assert_eq!(current_tag(&app, &ash), tag, "{write:?}");
        // Other requests change the list; the retry still gets the old answer.
        assert_eq!(replace(&app, &ash, &[7, 8, 9], &[]).status, 200);
        assert_eq!(add(&app, &ash, 25, &[]).status, 201);
        let changed = app.dump();
        let late = write.by(&app, &ash, &keyed(&key));
        assert_replay(&first, &late);
        assert_eq!(
            app.dump(),
            changed,
            "{write:?}: a late replay changes nothing"
        );
        assert_eq!(app.favorite_ids_in_db(ash.id), [7, 8, 9, 25]);
    }
    // A keyed replacement that keeps favorites answers when each was added, as the
    // list has it, all of a long list in one body, as an unkeyed replacement does.
    reset(&app, &ash);
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    conn.execute("UPDATE favorites SET added_at = '2020-01-01T00:00:00Z'", [])
        .unwrap();
    let ids: Vec<i64> = (1..=60).rev().collect();
    let first = replace(&app, &ash, &ids, &keyed("kept"));
    assert_decided(&first, 200);
    assert_body_is_the_list(&app, &ash, Write::Replace, &first);
    let items = first.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 60);
    for item in &items[57..] {
        assert_eq!(item["added_at"], "2020-01-01T00:00:00Z", "{item}");
    }
    assert_ne!(items[0]["added_at"], "2020-01-01T00:00:00Z");
    assert_replay(&first, &replace(&app, &ash, &ids, &keyed("kept")));
    assert_eq!(keys_of(&app, ash.id), 4);
}

/// The first answer's body is what the list holds now: the added favorite is its last
/// item, a replacement's page is the whole list, a removal has no body.
#[track_caller]
fn assert_body_is_the_list(app: &TestApp, user: &TestUser, write: Write, first: &HostResponse) {
    let path = format!("{}?limit=200", favorites_path(user));
    let list = assert_json(&app.get(&path, Some(&user.token)), 200);
    match write {
        Write::Add => assert_eq!(
            list["items"].as_array().unwrap().last(),
            Some(&first.json())
        ),
        Write::Replace => assert_eq!(first.json(), list),
        Write::Remove => assert!(first.body.is_empty(), "{}", text(first)),
    }
}

/// A refusal of a key already used for another request: 422, and not a thing changed.
#[track_caller]
fn assert_reused(app: &TestApp, response: &HostResponse, unchanged: &str) {
    assert_problem(response, 422, "idempotency_key_reused");
    assert_eq!(app.dump(), unchanged, "a reused key changes nothing");
}

fn the_same_key_for_another_request_is_422_and_changes_nothing(app: TestApp) {
    let ash = app.user("ash");
    reset(&app, &ash);
    let k = keyed("one-key");
    let first = add(&app, &ash, 25, &k);
    assert_decided(&first, 201);
    let written = app.dump();
    // Another body, another route (both other methods), another path.
    assert_reused(&app, &add(&app, &ash, 26, &k), &written);
    assert_reused(&app, &replace(&app, &ash, &[25], &k), &written);
    assert_reused(&app, &replace(&app, &ash, &[1, 2, 3, 25], &k), &written);
    assert_reused(&app, &remove(&app, &ash, 25, &k), &written);
    assert_reused(&app, &remove(&app, &ash, 1, &k), &written);
    // The key still answers its own request.
    assert_replay(&first, &add(&app, &ash, 25, &k));
    // The same body written otherwise is the same request (the body as parsed).
    let bearer = format!("Bearer {}", ash.token);
    let spaced = app.raw(
        "POST",
        &favorites_path(&ash),
        &[
            ("authorization", &bearer),
            ("content-type", "application/json"),
            (KEY, "one-key"),
        ],
        b" { \"pokemon_id\" : 25 }\n",
    );
    assert_replay(&first, &spaced);
    assert_eq!(app.dump(), written);

    // A removal: another Pokémon in the path is another request.
    let k = keyed("remove-key");
    let removed = remove(&app, &ash, 1, &k);
    assert_decided(&removed, 204);
    let written = app.dump();
    assert_reused(&app, &remove(&app, &ash, 2, &k), &written);
    assert_reused(&app, &add(&app, &ash, 1, &k), &written);
    assert_replay(&removed, &remove(&app, &ash, 1, &k));

    // A replacement: the ids in their order are the request.
    let k = keyed("replace-key");
    let replaced = replace(&app, &ash, &[4, 5], &k);
    assert_decided(&replaced, 200);
    let written = app.dump();
    for other in [&[5, 4][..], &[4, 5, 6], &[4], &[]] {
        assert_reused(&app, &replace(&app, &ash, other, &k), &written);
    }
    assert_reused(&app, &add(&app, &ash, 4, &k), &written);
    assert_replay(&replaced, &replace(&app, &ash, &[4, 5], &k));
    assert_eq!(app.favorite_ids_in_db(ash.id), [4, 5]);
    assert_eq!(keys_of(&app, ash.id), 3);
}

fn keys_of_two_users_are_their_own(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    let k = keyed("shared");
    // The same key string, the same kind of request: each user's is decided.
    let ashs = add(&app, &ash, 25, &k);
    assert_decided(&ashs, 201);
    let mistys = add(&app, &misty, 25, &k);
    assert_decided(&mistys, 201);
    assert_ne!(ashs.header("location"), mistys.header("location"));
    assert_replay(&ashs, &add(&app, &ash, 25, &k));
    assert_replay(&mistys, &add(&app, &misty, 25, &k));
    // A key one user used is unknown to the other: her different request is decided.
    let solo = keyed("solo");
    assert_decided(&add(&app, &ash, 7, &solo), 201);
    assert_decided(&remove(&app, &misty, 25, &solo), 204);
    // Ash's token on Misty's list with her key and her request: 403, no replay.
    let path = format!("{}/25", favorites_path(&misty));
    let theirs = app.send_with("DELETE", &path, Some(&ash.token), None, &solo);
    assert_problem(&theirs, 403, "forbidden");
    assert_eq!(app.favorite_ids_in_db(ash.id), [25, 7]);
    assert_eq!(app.favorite_ids_in_db(misty.id), Vec::<i64>::new());
    assert_eq!((keys_of(&app, ash.id), keys_of(&app, misty.id)), (2, 2));
}

fn a_refused_request_is_not_stored_and_its_retry_is_decided_afresh(app: TestApp) {
    let ash = app.user("ash");
    reset(&app, &ash);
    // 409: already a favorite. Once it is not, the same key adds it.
    let k = keyed("exists");
    assert_problem(&add(&app, &ash, 1, &k), 409, "favorite_exists");
    assert_eq!(all_keys(&app), 0, "a 409 is not stored");
    assert_eq!(remove(&app, &ash, 1, &[]).status, 204);
    let first = add(&app, &ash, 1, &k);
    assert_decided(&first, 201);
    assert_replay(&first, &add(&app, &ash, 1, &k));
    // 422: not in the catalog, for an add and a replacement. Nothing was stored, so
    // the key is free for any request.
    let k = keyed("unknown");
    assert_problem(&add(&app, &ash, 2000, &k), 422, "unknown_pokemon");
    assert_problem(&replace(&app, &ash, &[4, 9999], &k), 422, "unknown_pokemon");
    assert_eq!(all_keys(&app), 1, "a 422 is not stored");
    let first = add(&app, &ash, 26, &k);
    assert_decided(&first, 201);
    assert_replay(&first, &add(&app, &ash, 26, &k));
    // 404: not a favorite. Once it is, the same key removes it.
    let k = keyed("absent");
    assert_problem(&remove(&app, &ash, 99, &k), 404, "not_found");
    assert_eq!(all_keys(&app), 2, "a 404 is not stored");
    assert_eq!(add(&app, &ash, 99, &[]).status, 201);
    let first = remove(&app, &ash, 99, &k);
    assert_decided(&first, 204);
    assert_replay(&first, &remove(&app, &ash, 99, &k));
    assert_eq!(app.favorite_ids_in_db(ash.id), [2, 3, 1, 26]);
    assert_eq!(all_keys(&app), 3);
}

fn a_503_is_not_stored_and_its_retry_is_decided_afresh(app: TestApp) {
    let ash = app.user("ash");
    reset(&app, &ash);
    // The statements of a keyed add, decided.
    let probe = add(&app, &ash, 25, &keyed("probe"));
    assert_decided(&probe, 201);
    let statements = probe.stats.sql().len();
    assert!(statements > 0);
    assert_eq!(remove(&app, &ash, 25, &[]).status, 204);
    // Each of them failing with "database is locked": 503, nothing stored or changed;
    // the same key then decides, and then replays.
    for position in 1..=statements {
        let key = format!("busy-{position}");
        let before = app.dump();
        app.host.faults().fail_nth(position, io(messages::LOCKED));
        let failed = add(&app, &ash, 25, &keyed(&key));
        app.host.faults().clear();
        assert_problem(&failed, 503, "database_unavailable");
        assert_eq!(app.dump(), before, "statement {position}: nothing changed");
        let first = add(&app, &ash, 25, &keyed(&key));
        assert_decided(&first, 201);
        assert_replay(&first, &add(&app, &ash, 25, &keyed(&key)));
        let undone = remove(&app, &ash, 25, &[]);
        assert_eq!(undone.status, 204, "{}", text(&undone));
    }
}

fn if_match_is_checked_when_deciding_never_on_a_replay(app: TestApp) {
    let ash = app.user("ash");
    for write in WRITES {
        reset(&app, &ash);
        let stale = current_tag(&app, &ash);
        reset(&app, &ash);
        let tag = current_tag(&app, &ash);
        let key = format!("if-match-{write:?}");
        // Decided with a stale tag: 412, not stored.
        let before = app.dump();
        let refused = write.by(&app, &ash, &[(KEY, &key), ("if-match", &stale)]);
        assert_problem(&refused, 412, "precondition_failed");
        assert_eq!(app.dump(), before, "{write:?}: a 412 changes nothing");
        assert_eq!(rows_of_key(&app, ash.id, &key), 0, "{write:?}: not stored");
        // The same key with the current tag: decided.
        let first = write.by(&app, &ash, &[(KEY, &key), ("if-match", &tag)]);
        assert_decided(&first, write.ok());
        assert_eq!(app.favorite_ids_in_db(ash.id), write.after(), "{write:?}");
        // Replays: the tag is not looked at, stale, malformed or absent.
        let written = app.dump();
        for value in [tag.as_str(), &stale, "\"other\"", "not quoted", "", "*"] {
            let again = write.by(&app, &ash, &[(KEY, &key), ("if-match", value)]);
            assert_replay(&first, &again);
            assert_eq!(app.dump(), written, "{write:?} with If-Match {value}");
        }
        assert_replay(&first, &write.by(&app, &ash, &keyed(&key)));
    }
}
