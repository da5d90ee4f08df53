//! Registration, login and tokens: every rule, and every way a token can be wrong.

use crate::helpers::{
    assert_json, assert_problem, now, sign_token, store_tests, TestApp, TestUser,
};
use crate::host::{StoreMode, TEST_JWT_SECRET};
use serde_json::{json, Value};

/// A token for `user` signed with the test secret, with `claims` merged over valid ones.
fn token_with(user: &TestUser, header: Value, claims: Value) -> String {
    let mut all = json!({"sub": user.id.to_string(), "iss": "pokefavs",
                         "iat": now(), "exp": now() + 600});
    for (key, value) in claims.as_object().unwrap() {
        all[key] = value.clone();
    }
    sign_token(TEST_JWT_SECRET.as_bytes(), &header, &all)
}

fn hs256() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

store_tests!(
    register_creates_a_user_and_says_where,
    passwords_are_stored_only_as_argon2id,
    usernames_are_unique_ignoring_case,
    registration_rules_name_each_field,
    login_gives_a_bearer_token_with_the_configured_lifetime,
    unknown_users_and_wrong_passwords_get_the_same_answer,
    every_bad_token_is_401_with_www_authenticate,
    the_authorization_header_must_be_one_bearer_token,
    a_deleted_users_token_stops_working_everywhere
);

fn register_creates_a_user_and_says_where(app: TestApp) {
    let response = app.register("Ash", "pikachu-pal");
    let body = assert_json(&response, 201);
    let id = body["id"].as_i64().expect("a numeric id");
    assert!(id > 0);
    assert_eq!(body["username"], "Ash");
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    assert_eq!(
        response.header("location"),
        Some(format!("/api/users/{id}").as_str())
    );
    let stored = app.query_ints("SELECT count(*) FROM users WHERE id = ?1", id);
    assert_eq!(stored, [1]);
}

fn passwords_are_stored_only_as_argon2id(app: TestApp) {
    app.register("ash", "pikachu-pal");
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    let hash: String = conn
        .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains("pikachu-pal"));
}

fn usernames_are_unique_ignoring_case(app: TestApp) {
    assert_eq!(app.register("Ash", "pikachu-pal").status, 201);
    assert_problem(&app.register("ash", "another-pass"), 409, "username_taken");
    assert_problem(&app.register("ASH", "another-pass"), 409, "username_taken");
}

fn registration_rules_name_each_field(app: TestApp) {
    for (body, fields) in [
        (
            json!({"username": "ab", "password": "pikachu-pal"}),
            vec!["username"],
        ),
        (
            json!({"username": "a".repeat(33), "password": "pikachu-pal"}),
            vec!["username"],
        ),
        (
            json!({"username": "ash ketchum", "password": "pikachu-pal"}),
            vec!["username"],
        ),
        (
            json!({"username": "ash", "password": "short"}),
            vec!["password"],
        ),
        (
            json!({"username": "ash", "password": "x".repeat(129)}),
            vec!["password"],
        ),
        (
            json!({"username": 12345, "password": "pikachu-pal"}),
            vec!["username"],
        ),
        (json!({"password": "pikachu-pal"}), vec!["username"]),
        (
            json!({"username": null, "password": null}),
            vec!["username", "password"],
        ),
        (json!({}), vec!["username", "password"]),
    ] {
        let response = app.send("POST", "/api/auth/register", None, Some(&body));
        let problem = assert_problem(&response, 422, "validation_failed");
        let named: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{body}");
    }
    assert_eq!(app.register("ash", "pikachu-pal").status, 201);
    assert_eq!(
        app.query_ints("SELECT count(*) FROM users WHERE ?1 = ?1", 0),
        [1]
    );
}

fn login_gives_a_bearer_token_with_the_configured_lifetime(app: TestApp) {
    app.register("ash", "pikachu-pal");
    let response = app.login("ASH", "pikachu-pal");
    let body = assert_json(&response, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);
    let me = assert_json(&app.me(token), 200);
    assert_eq!(me["username"], "ash");
}

fn unknown_users_and_wrong_passwords_get_the_same_answer(app: TestApp) {
    app.register("ash", "pikachu-pal");
    let wrong = app.login("ash", "pikachu-pa1");
    let unknown = app.login("gary", "pikachu-pal");
    let impossible = app.login("not a valid name!", "pikachu-pal");
    let a = assert_problem(&wrong, 401, "invalid_credentials");
    let b = assert_problem(&unknown, 401, "invalid_credentials");
    let c = assert_problem(&impossible, 401, "invalid_credentials");
    assert_eq!(a["detail"], b["detail"]);
    for response in [&wrong, &unknown, &impossible] {
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer"),
            "every 401 names its scheme"
        );
    }
    assert_eq!(b["detail"], c["detail"]);
}

fn every_bad_token_is_401_with_www_authenticate(app: TestApp) {
    let ash = app.user("ash");
    let path = format!("/api/users/{}/favorites", ash.id);
    let good_body = ash.token.split('.').nth(1).unwrap().to_string();
    let forged_body = crate::helpers::base64url(
        json!({"sub": "999", "iss": "pokefavs", "iat": now(), "exp": now() + 600})
            .to_string()
            .as_bytes(),
    );
    let parts: Vec<&str> = ash.token.split('.').collect();
    let bad_tokens: Vec<(&str, String)> = vec![
        ("alg none", {
            let header = crate::helpers::base64url(br#"{"alg":"none","typ":"JWT"}"#);
            format!("{header}.{good_body}.")
        }),
        (
            "another key",
            sign_token(
                b"an-entirely-different-secret-of-40-bytes",
                &hs256(),
                &json!({"sub": ash.id.to_string(), "iss": "pokefavs",
                    "iat": now(), "exp": now() + 600}),
            ),
        ),
        (
            "HS512 header",
            token_with(&ash, json!({"alg": "HS512", "typ": "JWT"}), json!({})),
        ),
        (
            "expired",
            token_with(
                &ash,
                hs256(),
                json!({"iat": now() - 7200, "exp": now() - 3600}),
            ),
        ),
        (
            "issued in the future",
            token_with(&ash, hs256(), json!({"iat": now() + 3600})),
        ),
        (
            "not yet valid",
            token_with(&ash, hs256(), json!({"nbf": now() + 3600})),
        ),
        (
            "wrong issuer",
            token_with(&ash, hs256(), json!({"iss": "someone-else"})),
        ),
        ("no expiry", token_with(&ash, hs256(), json!({"exp": null}))),
        (
            "non-numeric subject",
            token_with(&ash, hs256(), json!({"sub": "ash"})),
        ),
        (
            "tampered payload",
            format!("{}.{}.{}", parts[0], forged_body, parts[2]),
        ),
        ("truncated", ash.token[..ash.token.len() - 5].to_string()),
        ("garbage", "not-a-jwt".to_string()),
    ];
    for (what, token) in bad_tokens {
        let response = app.get(&path, Some(&token));
        assert_problem(&response, 401, "unauthorized");
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer"),
            "{what}"
        );
    }
    // The well-formed control token, signed the same way, is accepted.
    let control = token_with(&ash, hs256(), json!({}));
    assert_eq!(app.get(&path, Some(&control)).status, 200);
}

fn the_authorization_header_must_be_one_bearer_token(app: TestApp) {
    let ash = app.user("ash");
    for headers in [
        vec![],
        vec![("authorization", ash.token.clone())],
        vec![("authorization", format!("Basic {}", ash.token))],
        vec![("authorization", "Bearer ".to_string())],
        vec![
            ("authorization", format!("Bearer {}", ash.token)),
            ("authorization", format!("Bearer {}", ash.token)),
        ],
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let response = app.raw("GET", "/api/users/me", &headers, b"");
        assert_problem(&response, 401, "unauthorized");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
    let lower = format!("bearer {}", ash.token);
    let response = app.raw("GET", "/api/users/me", &[("authorization", &lower)], b"");
    assert_eq!(response.status, 200, "the scheme is case-insensitive");
}

fn a_deleted_users_token_stops_working_everywhere(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    assert_eq!(app.delete_user(&ash).status, 204);
    for (method, path) in [
        ("GET", "/api/users/me".to_string()),
        ("GET", format!("/api/users/{}", ash.id)),
        ("GET", format!("/api/users/{}/favorites", ash.id)),
        ("DELETE", format!("/api/users/{}/favorites/25", ash.id)),
        ("DELETE", format!("/api/users/{}", ash.id)),
        ("GET", format!("/api/users/{}", misty.id)),
    ] {
        let response = app.send(method, &path, Some(&ash.token), None);
        assert_problem(&response, 401, "unauthorized");
    }
    // Input that does not parse is not a way around it: still 401, not 4xx.
    let bad_input = [
        (
            "POST",
            format!("/api/users/{}/favorites", ash.id),
            Some(json!({"pokemon_id": "x"})),
        ),
        (
            "PUT",
            format!("/api/users/{}/favorites", ash.id),
            Some(json!({"pokemon_ids": [1, 1]})),
        ),
        (
            "POST",
            format!("/api/users/{}/favorites", ash.id),
            Some(json!([1])),
        ),
        (
            "GET",
            format!("/api/users/{}/favorites?limit=0", ash.id),
            None,
        ),
        (
            "GET",
            format!("/api/users/{}/favorites?cursor=nope", ash.id),
            None,
        ),
    ];
    for (method, path, body) in bad_input {
        let response = app.send(method, &path, Some(&ash.token), body.as_ref());
        assert_problem(&response, 401, "unauthorized");
    }
    let text = app.raw(
        "POST",
        &format!("/api/users/{}/favorites", ash.id),
        &[
            ("authorization", &format!("Bearer {}", ash.token)),
            ("content-type", "text/plain"),
        ],
        b"25",
    );
    assert_problem(&text, 401, "unauthorized");
    for (method, body) in [
        ("POST", json!({"pokemon_id": 1})),
        ("PUT", json!({"pokemon_ids": [1]})),
    ] {
        let path = format!("/api/users/{}/favorites", ash.id);
        let response = app.send(method, &path, Some(&ash.token), Some(&body));
        assert_problem(&response, 401, "unauthorized");
    }
}

#[test]
fn the_token_lifetime_comes_from_the_spin_variable() {
    let app = TestApp::with(StoreMode::Local, |cfg| {
        cfg.variable("token_ttl_seconds", "120")
    });
    app.register("ash", "pikachu-pal");
    let body = assert_json(&app.login("ash", "pikachu-pal"), 200);
    assert_eq!(body["expires_in"], 120);
}

#[test]
fn a_short_jwt_secret_makes_token_routes_500_and_says_why_in_the_log() {
    let app = TestApp::with(StoreMode::Local, |cfg| {
        cfg.variable("jwt_secret", "tiny-secret-x9")
    });
    assert_eq!(
        app.register("ash", "pikachu-pal").status,
        201,
        "register needs no secret"
    );
    let response = app.login("ash", "pikachu-pal");
    let body = assert_problem(&response, 500, "internal");
    let id = response.header("x-request-id").unwrap().to_string();
    assert!(body["detail"].as_str().unwrap().contains(&id));
    assert!(
        response.stderr.contains("jwt_secret"),
        "{}",
        response.stderr
    );
    assert!(response.stderr.contains(&id));
    assert!(
        !response.stderr.contains("tiny-secret-x9"),
        "never log the secret"
    );
}
