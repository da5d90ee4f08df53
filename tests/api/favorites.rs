//! Favorites: adding, listing in order across pages, replacing atomically, removing,
//! and the 1000-favorite cap.

use crate::helpers::{assert_json, assert_problem, store_tests, TestApp, TestUser};
use serde_json::{json, Value};

/// Every favorite of `user`, walking the pages of `limit` items.
fn walk(app: &TestApp, user: &TestUser, limit: usize) -> (Vec<i64>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/users/{}/favorites?limit={limit}", user.id);
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let body = assert_json(&app.get(&path, Some(&user.token)), 200);
        pages += 1;
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        ids.extend(items.iter().map(|i| i["pokemon_id"].as_i64().unwrap()));
        match &body["next_cursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            Value::Null => break,
            other => panic!("next_cursor is {other}"),
        }
        assert!(pages < 100, "pagination does not end");
    }
    (ids, pages)
}

store_tests!(
    adding_a_favorite_answers_the_item_and_its_location,
    favorites_are_listed_oldest_first,
    pages_keep_insertion_order_across_boundaries,
    a_favorite_added_twice_is_409,
    a_pokemon_outside_the_catalog_is_422_unknown_pokemon,
    a_bad_pokemon_id_is_422_validation_failed,
    removing_a_favorite_is_204_and_a_missing_one_404,
    replacing_sets_the_list_in_the_given_order,
    a_replacement_keeps_when_each_retained_favorite_was_added,
    a_bad_replacement_changes_nothing,
    a_user_keeps_at_most_1000_favorites,
    bad_limits_and_cursors_are_422
);

fn adding_a_favorite_answers_the_item_and_its_location(app: TestApp) {
    let ash = app.user("ash");
    let response = app.add_favorite(&ash, 25);
    let body = assert_json(&response, 201);
    assert_eq!(body["pokemon_id"], 25);
    assert_eq!(body["name"], "Pikachu");
    assert!(body["added_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    let location = format!("/api/users/{}/favorites/25", ash.id);
    assert_eq!(response.header("location"), Some(location.as_str()));
    let list = assert_json(&app.favorites(&ash), 200);
    assert_eq!(list, json!({"items": [body], "next_cursor": null}));
}

fn favorites_are_listed_oldest_first(app: TestApp) {
    let ash = app.user("ash");
    for id in [150, 1, 25, 7] {
        assert_eq!(app.add_favorite(&ash, id).status, 201);
    }
    let (ids, _) = walk(&app, &ash, 50);
    assert_eq!(ids, [150, 1, 25, 7]);
}

fn pages_keep_insertion_order_across_boundaries(app: TestApp) {
    let ash = app.user("ash");
    let order: Vec<i64> = (1..=23).map(|i| (i * 37) % 1025 + 1).collect();
    assert_eq!(app.replace_favorites(&ash, &order).status, 200);
    app.remove_favorite(&ash, order[5]);
    app.add_favorite(&ash, order[5]);
    let mut expected = order.clone();
    let moved = expected.remove(5);
    expected.push(moved);
    for limit in [1, 5, 22, 23, 200] {
        let (ids, pages) = walk(&app, &ash, limit);
        assert_eq!(ids, expected, "limit {limit}");
        assert_eq!(pages, 23usize.div_ceil(limit).max(1), "limit {limit}");
    }
}

fn a_favorite_added_twice_is_409(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.add_favorite(&ash, 25).status, 201);
    let body = assert_problem(&app.add_favorite(&ash, 25), 409, "favorite_exists");
    assert_eq!(body["detail"], "Pokémon 25 is already a favorite");
    assert_eq!(app.favorite_ids_in_db(ash.id), [25]);
}

fn a_pokemon_outside_the_catalog_is_422_unknown_pokemon(app: TestApp) {
    let ash = app.user("ash");
    assert_problem(&app.add_favorite(&ash, 1026), 422, "unknown_pokemon");
    assert_problem(&app.add_favorite(&ash, i64::MAX), 422, "unknown_pokemon");
    assert_eq!(app.favorite_ids_in_db(ash.id), Vec::<i64>::new());
}

fn a_bad_pokemon_id_is_422_validation_failed(app: TestApp) {
    let ash = app.user("ash");
    let path = format!("/api/users/{}/favorites", ash.id);
    for body in [
        json!({}),
        json!({"pokemon_id": null}),
        json!({"pokemon_id": "25"}),
        json!({"pokemon_id": 25.5}),
        json!({"pokemon_id": 0}),
        json!({"pokemon_id": -25}),
        json!({"pokemon_id": 1e300}),
        json!({"pokemon_id": [25]}),
    ] {
        let response = app.send("POST", &path, Some(&ash.token), Some(&body));
        let problem = assert_problem(&response, 422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], "pokemon_id", "{body}");
    }
}

fn removing_a_favorite_is_204_and_a_missing_one_404(app: TestApp) {
    let ash = app.user("ash");
    app.replace_favorites(&ash, &[1, 2, 3]);
    let response = app.remove_favorite(&ash, 2);
    assert_eq!(response.status, 204);
    assert!(response.body.is_empty());
    assert_eq!(app.favorite_ids_in_db(ash.id), [1, 3]);
    assert_problem(&app.remove_favorite(&ash, 2), 404, "not_found");
    assert_problem(&app.remove_favorite(&ash, 5000), 404, "not_found");
}

fn replacing_sets_the_list_in_the_given_order(app: TestApp) {
    let ash = app.user("ash");
    app.replace_favorites(&ash, &[1, 2, 3]);
    let body = assert_json(&app.replace_favorites(&ash, &[7, 1, 4]), 200);
    let ids: Vec<i64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pokemon_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [7, 1, 4]);
    assert_eq!(body["items"][0]["name"], "Squirtle");
    assert_eq!(body["next_cursor"], Value::Null);
    assert_eq!(app.favorite_ids_in_db(ash.id), [7, 1, 4]);
    let cleared = assert_json(&app.replace_favorites(&ash, &[]), 200);
    assert_eq!(cleared, json!({"items": [], "next_cursor": null}));
    assert_eq!(app.favorite_ids_in_db(ash.id), Vec::<i64>::new());
}

fn a_replacement_keeps_when_each_retained_favorite_was_added(app: TestApp) {
    let ash = app.user("ash");
    let first = assert_json(&app.add_favorite(&ash, 25), 201);
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    // Make the existing favorite visibly older than anything added now.
    conn.execute("UPDATE favorites SET added_at = '2020-01-01T00:00:00Z'", [])
        .unwrap();
    let body = assert_json(&app.replace_favorites(&ash, &[1, 25]), 200);
    assert_eq!(body["items"][0]["pokemon_id"], 1);
    assert_ne!(body["items"][0]["added_at"], "2020-01-01T00:00:00Z");
    assert_eq!(body["items"][1]["pokemon_id"], 25);
    assert_eq!(
        body["items"][1]["added_at"], "2020-01-01T00:00:00Z",
        "was {first}"
    );
    let again = assert_json(&app.replace_favorites(&ash, &[1, 25]), 200);
    assert_eq!(
        again["items"], body["items"],
        "the same PUT twice gives the same list"
    );
}

fn a_bad_replacement_changes_nothing(app: TestApp) {
    let ash = app.user("ash");
    app.replace_favorites(&ash, &[1, 2, 3]);
    let before = app.dump();
    let too_many: Vec<i64> = (1..=1001).collect();
    let path = format!("/api/users/{}/favorites", ash.id);
    for (body, status, code) in [
        (json!({"pokemon_ids": [4, 5, 4]}), 422, "validation_failed"),
        (
            json!({"pokemon_ids": [4, 2000, 5, 3000]}),
            422,
            "unknown_pokemon",
        ),
        (json!({"pokemon_ids": too_many}), 422, "validation_failed"),
        (json!({"pokemon_ids": [4, "5"]}), 422, "validation_failed"),
        (json!({"pokemon_ids": 4}), 422, "validation_failed"),
        (json!({}), 422, "validation_failed"),
        (json!([4, 5]), 400, "malformed_json"),
    ] {
        let response = app.send("PUT", &path, Some(&ash.token), Some(&body));
        let problem = assert_problem(&response, status, code);
        if code == "unknown_pokemon" {
            assert!(
                problem["detail"].as_str().unwrap().contains("2000, 3000"),
                "{problem}"
            );
        }
        assert_eq!(app.dump(), before, "{body}");
    }
}

fn a_user_keeps_at_most_1000_favorites(app: TestApp) {
    let ash = app.user("ash");
    let all: Vec<i64> = (1..=1000).collect();
    let body = assert_json(&app.replace_favorites(&ash, &all), 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 1000);
    let problem = assert_problem(&app.add_favorite(&ash, 1001), 422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "pokemon_id");
    assert_eq!(app.favorite_ids_in_db(ash.id).len(), 1000);
    assert_eq!(
        assert_json(&app.me(&ash.token), 200)["favorites_count"],
        1000
    );
    // Below the cap again, adding works.
    assert_eq!(app.remove_favorite(&ash, 1).status, 204);
    assert_eq!(app.add_favorite(&ash, 1001).status, 201);
}

fn bad_limits_and_cursors_are_422(app: TestApp) {
    let ash = app.user("ash");
    app.replace_favorites(&ash, &[1, 2, 3]);
    let base = format!("/api/users/{}/favorites", ash.id);
    let pokemon_cursor = app.get("/api/pokemon?limit=1", None).json()["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("limit=", "limit"),
        ("cursor=garbage!", "cursor"),
        ("cursor=", "cursor"),
        ("cursor=%FF", "cursor"),
        (&format!("cursor={pokemon_cursor}") as &str, "cursor"),
    ] {
        let response = app.get(&format!("{base}?{query}"), Some(&ash.token));
        let problem = assert_problem(&response, 422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    assert_eq!(
        app.get(&format!("{base}?limit=200&other=1"), Some(&ash.token))
            .status,
        200
    );
}
