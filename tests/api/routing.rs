//! The route table's edges: unknown paths, wrong methods, paths that try to be clever.

use crate::helpers::{assert_problem, store_tests, TestApp};

store_tests!(
    an_unknown_path_is_404_problem_json,
    a_wrong_method_is_405_with_allow,
    path_tricks_name_no_resource,
    a_favorite_outside_the_catalog_names_nothing_whoever_asks
);

// The property fuzzer found it (seed 2630162960245307320): `openapi.json` says a
// favorite's Pokédex number outside 1–1025 names nothing, and the checker holds every
// answer to that, but the route asked for a token first (401).
fn a_favorite_outside_the_catalog_names_nothing_whoever_asks(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    for (user, token) in [
        (ash.id, None),
        (ash.id, Some(ash.token.as_str())),
        (misty.id, Some(ash.token.as_str())),
    ] {
        let path = format!("/api/users/{user}/favorites/1026");
        assert_problem(&app.send("DELETE", &path, token, None), 404, "not_found");
    }
    // 1025 is in the catalog: the route runs (and says it is not a favorite).
    let last = app.remove_favorite(&ash, 1025);
    assert_problem(&last, 404, "not_found");
    assert!(last
        .stats
        .statements
        .iter()
        .any(|s| s.sql.starts_with("DELETE")));
}

fn an_unknown_path_is_404_problem_json(app: TestApp) {
    for path in [
        "/",
        "/nope",
        "/api",
        "/api/users",
        "/api/pokemon/25/extra",
        "/health/",
    ] {
        assert_problem(&app.get(path, None), 404, "not_found");
    }
}

fn a_wrong_method_is_405_with_allow(app: TestApp) {
    for (method, path, allow) in [
        ("POST", "/health/live", "GET, HEAD"),
        ("DELETE", "/health", "GET, HEAD"),
        ("GET", "/api/auth/register", "POST"),
        ("PUT", "/api/auth/login", "POST"),
        ("POST", "/api/users/me", "GET, HEAD"),
        ("PUT", "/api/users/1", "GET, HEAD, DELETE"),
        ("DELETE", "/api/users/1/favorites", "GET, HEAD, POST, PUT"),
        ("GET", "/api/users/1/favorites/25", "DELETE"),
        ("POST", "/api/pokemon", "GET, HEAD"),
        ("PATCH", "/api/pokemon/25", "GET, HEAD"),
        ("OPTIONS", "/api/openapi.json", "GET, HEAD"),
    ] {
        let response = app.send(method, path, None, None);
        assert_problem(&response, 405, "method_not_allowed");
        assert_eq!(response.header("allow"), Some(allow), "{method} {path}");
    }
}

fn path_tricks_name_no_resource(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    for path in [
        format!("/api/users/{}/../{}", ash.id, misty.id),
        format!("/api/users/{}%2F..%2F{}", ash.id, misty.id),
        format!("/api/users/{}/favorites/", ash.id),
        format!("/api/users//{}", misty.id),
        format!("/api/users/{}/", misty.id),
        "/api/users/0".to_string(),
        "/api/users/-1".to_string(),
        "/api/users/99999999999999999999".to_string(),
        "/api/pokemon/%32%35".to_string(),
    ] {
        assert_problem(&app.get(&path, Some(&ash.token)), 404, "not_found");
    }
}
