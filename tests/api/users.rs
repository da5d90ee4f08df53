//! `/api/users/me` and `/api/users/{id}`: reading and deleting one's own account only.

use crate::helpers::{assert_json, assert_problem, store_tests, TestApp};

store_tests!(
    me_shows_the_profile_with_the_favorites_count,
    another_users_record_is_403,
    user_routes_need_a_token,
    deleting_a_user_removes_their_favorites_on_both_stores
);

fn me_shows_the_profile_with_the_favorites_count(app: TestApp) {
    let ash = app.user("ash");
    app.add_favorite(&ash, 25);
    app.add_favorite(&ash, 1);
    let body = assert_json(&app.me(&ash.token), 200);
    assert_eq!(body["id"], ash.id);
    assert_eq!(body["username"], "ash");
    assert_eq!(body["favorites_count"], 2);
    assert!(body["created_at"].is_string());
    assert_eq!(body.as_object().unwrap().len(), 4, "{body}");
    let by_id = assert_json(
        &app.get(&format!("/api/users/{}", ash.id), Some(&ash.token)),
        200,
    );
    assert_eq!(by_id, body);
}

fn another_users_record_is_403(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    for (method, path) in [
        ("GET", format!("/api/users/{}", misty.id)),
        ("DELETE", format!("/api/users/{}", misty.id)),
        ("GET", format!("/api/users/{}/favorites", misty.id)),
        ("DELETE", format!("/api/users/{}/favorites/25", misty.id)),
        ("GET", "/api/users/424242".to_string()),
    ] {
        assert_problem(
            &app.send(method, &path, Some(&ash.token), None),
            403,
            "forbidden",
        );
    }
    let body = serde_json::json!({"pokemon_id": 25});
    let path = format!("/api/users/{}/favorites", misty.id);
    assert_problem(
        &app.send("POST", &path, Some(&ash.token), Some(&body)),
        403,
        "forbidden",
    );
    let body = serde_json::json!({"pokemon_ids": [25]});
    assert_problem(
        &app.send("PUT", &path, Some(&ash.token), Some(&body)),
        403,
        "forbidden",
    );
    assert_eq!(app.favorite_ids_in_db(misty.id), Vec::<i64>::new());
    assert_eq!(assert_json(&app.me(&misty.token), 200)["username"], "misty");
}

fn user_routes_need_a_token(app: TestApp) {
    let ash = app.user("ash");
    for (method, path) in [
        ("GET", "/api/users/me".to_string()),
        ("GET", format!("/api/users/{}", ash.id)),
        ("DELETE", format!("/api/users/{}", ash.id)),
        ("GET", format!("/api/users/{}/favorites", ash.id)),
        ("POST", format!("/api/users/{}/favorites", ash.id)),
        ("PUT", format!("/api/users/{}/favorites", ash.id)),
        ("DELETE", format!("/api/users/{}/favorites/25", ash.id)),
    ] {
        let response = app.send(method, &path, None, None);
        assert_problem(&response, 401, "unauthorized");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
}

// The libSQL mode starts connections with foreign keys off, as sqld does: there
// `ON DELETE CASCADE` does nothing, and only the explicit statement removes them.
fn deleting_a_user_removes_their_favorites_on_both_stores(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    assert_eq!(app.replace_favorites(&ash, &[1, 4, 7]).status, 200);
    assert_eq!(app.replace_favorites(&misty, &[25]).status, 200);
    let response = app.delete_user(&ash);
    assert_eq!(response.status, 204);
    assert!(response.body.is_empty());
    assert_eq!(
        app.query_ints("SELECT count(*) FROM users WHERE id = ?1", ash.id),
        [0]
    );
    assert_eq!(app.favorite_ids_in_db(ash.id), Vec::<i64>::new());
    assert_eq!(app.favorite_ids_in_db(misty.id), [25], "others keep theirs");
    assert_problem(&app.me(&ash.token), 401, "unauthorized");
    // The name is free again, and the new account is a different user.
    let again = app.user("ash");
    assert_ne!(again.id, ash.id);
    assert_problem(&app.me(&ash.token), 401, "unauthorized");
}
