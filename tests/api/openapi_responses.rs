//! What `openapi.json` promises about answers: which bodies its schemas admit (closed
//! objects, cursors, problems with their codes, the health report, usernames and
//! timestamps), and which status, headers and content each operation documents,
//! including the 404 and 405 its `info.description` states for unlisted paths and
//! methods. The component's own answers are held to the same document in every test
//! (`helpers::check_response`); these pin down what the document says.
//! (How the checker applies a document is tested in the host crate, `openapi_check`.)

use crate::openapi_check::{document, validate_response, validate_schema};
use serde_json::{json, Value};

const JSON: Option<&str> = Some("application/json");
const PROBLEM: Option<&str> = Some("application/problem+json");
const RID: (&str, &str) = ("x-request-id", "0123456789abcdef");

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn problem(status: u16, title: &str, code: &str) -> Value {
    json!({"type": "about:blank", "title": title, "status": status, "code": code,
           "detail": "something"})
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

#[test]
fn a_favorite_with_an_extra_field_fails() {
    let doc = document();
    let good = json!({"pokemon_id": 25, "name": "Pikachu", "added_at": "2026-11-27T10:15:32Z"});
    validate_schema(&doc, &schema("Favorite"), &good).unwrap();
    let mut bad = good.clone();
    bad["key"] = json!(3);
    let err = validate_schema(&doc, &schema("Favorite"), &bad).unwrap_err();
    assert!(err.contains("'key' was unexpected"), "{err}");
    let page = json!({"items": [bad], "next_cursor": null});
    let err = validate_schema(&doc, &schema("FavoritePage"), &page).unwrap_err();
    assert!(err.starts_with("at \"/items/0\""), "{err}");
}

#[test]
fn next_cursor_may_be_null_or_a_string_but_must_be_there() {
    let doc = document();
    let page = schema("PokemonPage");
    for ok in [
        json!({"items": [], "next_cursor": null}),
        json!({"items": [{"id": 25, "name": "Pikachu"}], "next_cursor": "cDI1"}),
    ] {
        validate_schema(&doc, &page, &ok).unwrap();
    }
    for bad in [
        json!({"items": []}),
        json!({"items": [], "next_cursor": 3}),
        json!({"items": [{"id": 0, "name": "Missingno"}], "next_cursor": null}),
        json!({"items": [{"id": 25}], "next_cursor": null}),
    ] {
        assert!(validate_schema(&doc, &page, &bad).is_err(), "{bad}");
    }
}

#[test]
fn problems_must_carry_a_known_code_matching_their_status() {
    let doc = document();
    let generic = schema("Problem");
    validate_schema(&doc, &generic, &problem(409, "Conflict", "favorite_exists")).unwrap();
    let err = validate_schema(&doc, &generic, &problem(409, "Conflict", "teapot")).unwrap_err();
    assert!(err.starts_with("at \"/code\""), "{err}");

    let not_found = doc["components"]["responses"]["NotFound"]["content"]
        ["application/problem+json"]["schema"]
        .clone();
    validate_schema(&doc, &not_found, &problem(404, "Not Found", "not_found")).unwrap();
    assert!(validate_schema(&doc, &not_found, &problem(404, "Not Found", "forbidden")).is_err());
    assert!(validate_schema(&doc, &not_found, &problem(403, "Forbidden", "not_found")).is_err());

    let validation = schema("ValidationProblem");
    let mut body = problem(422, "Unprocessable Content", "validation_failed");
    assert!(
        validate_schema(&doc, &validation, &body).is_err(),
        "errors is required"
    );
    body["errors"] = json!([{"field": "password", "message": "must be 8 to 128 characters"}]);
    validate_schema(&doc, &validation, &body).unwrap();
    body["errors"][0]["hint"] = json!("x");
    assert!(validate_schema(&doc, &validation, &body).is_err());
}

#[test]
fn responses_are_checked_against_their_operation() {
    let doc = document();
    let user = bytes(&json!({"id": 1, "username": "ash", "created_at": "2026-11-27T10:15:32Z"}));
    let created = [
        RID,
        ("Location", "/api/users/1"),
        ("Cache-Control", "no-store"),
    ];
    validate_response(
        &doc,
        "POST",
        "/api/auth/register",
        201,
        JSON,
        &created,
        &user,
    )
    .unwrap();
    // The Location header is required, x-request-id too (and Cache-Control here).
    let created_with = |headers: &[(&str, &str)]| {
        validate_response(
            &doc,
            "POST",
            "/api/auth/register",
            201,
            JSON,
            headers,
            &user,
        )
    };
    let err = created_with(&[RID, ("Cache-Control", "no-store")]).unwrap_err();
    assert!(err.contains("Location"), "{err}");
    let err = created_with(&created[..2]).unwrap_err();
    assert!(err.contains("Cache-Control"), "{err}");
    let only_location = [("location", "/api/users/1")];
    assert!(validate_response(
        &doc,
        "post",
        "/api/auth/register",
        201,
        JSON,
        &only_location,
        &user
    )
    .is_err());
    // A charset parameter is fine; another media type is not.
    let utf8 = Some("application/json; charset=utf-8");
    validate_response(
        &doc,
        "POST",
        "/api/auth/register",
        201,
        utf8,
        &created,
        &user,
    )
    .unwrap();
    assert!(validate_response(
        &doc,
        "POST",
        "/api/auth/register",
        201,
        PROBLEM,
        &created,
        &user
    )
    .is_err());
    // Statuses the operation does not document are errors.
    let body = bytes(&problem(401, "Unauthorized", "unauthorized"));
    let err =
        validate_response(&doc, "GET", "/api/pokemon", 401, PROBLEM, &[RID], &body).unwrap_err();
    assert!(err.contains("not documented"), "{err}");
    // 204: no body, no content type.
    let no_headers: [(&str, &str); 0] = [];
    let private = [RID, ("Cache-Control", "no-store")];
    validate_response(&doc, "DELETE", "/api/users/3", 204, None, &private, b"").unwrap();
    assert!(validate_response(&doc, "DELETE", "/api/users/3", 204, None, &private, b"{}").is_err());
    assert!(validate_response(&doc, "DELETE", "/api/users/3", 204, JSON, &private, b"").is_err());
    assert!(
        validate_response(&doc, "DELETE", "/api/users/3", 204, None, &no_headers, b"").is_err()
    );
}

#[test]
fn error_responses_need_their_headers() {
    let doc = document();
    let unauthorized = bytes(&problem(401, "Unauthorized", "unauthorized"));
    let with_challenge = [RID, ("WWW-Authenticate", "Bearer")];
    validate_response(
        &doc,
        "GET",
        "/api/users/me",
        401,
        PROBLEM,
        &with_challenge,
        &unauthorized,
    )
    .unwrap();
    assert!(validate_response(
        &doc,
        "GET",
        "/api/users/me",
        401,
        PROBLEM,
        &[RID],
        &unauthorized
    )
    .is_err());
    let wrong_challenge = [RID, ("www-authenticate", "Basic")];
    assert!(validate_response(
        &doc,
        "GET",
        "/api/users/me",
        401,
        PROBLEM,
        &wrong_challenge,
        &unauthorized
    )
    .is_err());

    let busy = bytes(&problem(503, "Service Unavailable", "database_unavailable"));
    let retry = [RID, ("retry-after", "1")];
    validate_response(
        &doc,
        "GET",
        "/api/pokemon?q=pika",
        503,
        PROBLEM,
        &retry,
        &busy,
    )
    .unwrap();
    assert!(validate_response(&doc, "GET", "/api/pokemon", 503, PROBLEM, &[RID], &busy).is_err());
    let bad_retry = [RID, ("retry-after", "soon")];
    assert!(
        validate_response(&doc, "GET", "/api/pokemon", 503, PROBLEM, &bad_retry, &busy).is_err()
    );
    let bad_id = [("x-request-id", "not-hex")];
    let body = bytes(&problem(404, "Not Found", "not_found"));
    assert!(validate_response(
        &doc,
        "GET",
        "/api/pokemon/9999",
        404,
        PROBLEM,
        &bad_id,
        &body
    )
    .is_err());
}

#[test]
fn unknown_pokemon_is_a_422_of_the_favorites_routes_only() {
    let doc = document();
    let body = bytes(&problem(422, "Unprocessable Content", "unknown_pokemon"));
    let path = "/api/users/1/favorites";
    validate_response(&doc, "POST", path, 422, PROBLEM, &[RID], &body).unwrap();
    validate_response(&doc, "PUT", path, 422, PROBLEM, &[RID], &body).unwrap();
    assert!(validate_response(
        &doc,
        "POST",
        "/api/auth/register",
        422,
        PROBLEM,
        &[RID],
        &body
    )
    .is_err());
}

#[test]
fn health_answers_in_the_monitor_shape() {
    let doc = document();
    let up = json!({"status": "up", "latency_ms": 0.41, "schema_version": 1});
    let ok = bytes(&json!({"status": "ok", "database": up}));
    validate_response(&doc, "GET", "/health", 200, JSON, &[RID], &ok).unwrap();
    let config = json!({"status": "invalid", "error": "config: jwt_secret is 9 bytes"});
    let down = json!({"status": "down", "error": "database is locked"});
    for good in [
        json!({"status": "unavailable", "database": down}),
        json!({"status": "unavailable", "database": down, "config": config}),
        json!({"status": "unavailable", "database": up, "config": config}),
    ] {
        validate_response(&doc, "GET", "/health", 503, JSON, &[RID], &bytes(&good))
            .unwrap_or_else(|err| panic!("{err}"));
    }
    for bad in [
        json!({"status": "unavailable", "database": up}),
        json!({"status": "ok", "database": down}),
        json!({"status": "unavailable", "database": {"status": "down"}}),
    ] {
        assert!(
            validate_response(&doc, "GET", "/health", 503, JSON, &[RID], &bytes(&bad)).is_err(),
            "{bad}"
        );
    }
    let busy = bytes(&problem(503, "Service Unavailable", "database_unavailable"));
    assert!(validate_response(&doc, "GET", "/health", 503, PROBLEM, &[RID], &busy).is_err());
}

#[test]
fn unknown_paths_are_404_and_unknown_methods_405_with_allow() {
    let doc = document();
    let not_found = bytes(&problem(404, "Not Found", "not_found"));
    validate_response(&doc, "GET", "/nope", 404, PROBLEM, &[RID], &not_found).unwrap();
    assert!(validate_response(&doc, "GET", "/nope", 200, JSON, &[RID], b"{}").is_err());

    let not_allowed = bytes(&problem(405, "Method Not Allowed", "method_not_allowed"));
    let path = "/api/users/7/favorites";
    let allow = [RID, ("Allow", "GET, HEAD, POST, PUT")];
    validate_response(&doc, "PATCH", path, 405, PROBLEM, &allow, &not_allowed).unwrap();
    let wrong_allow = [RID, ("Allow", "GET, HEAD, POST")];
    assert!(validate_response(
        &doc,
        "PATCH",
        path,
        405,
        PROBLEM,
        &wrong_allow,
        &not_allowed
    )
    .is_err());
    assert!(validate_response(&doc, "PATCH", path, 405, PROBLEM, &[RID], &not_allowed).is_err());
    let me = [RID, ("allow", "GET, HEAD")];
    validate_response(
        &doc,
        "DELETE",
        "/api/users/me",
        405,
        PROBLEM,
        &me,
        &not_allowed,
    )
    .unwrap();
    // HEAD: GET's status, headers and content type, and no body.
    let post = [RID, ("allow", "POST")];
    validate_response(&doc, "HEAD", "/api/auth/login", 405, PROBLEM, &post, b"").unwrap();
    assert!(
        validate_response(
            &doc,
            "HEAD",
            "/api/auth/login",
            405,
            PROBLEM,
            &post,
            &not_allowed
        )
        .is_err(),
        "a HEAD answer with a body"
    );
    validate_response(&doc, "HEAD", "/health/live", 200, JSON, &[RID], b"").unwrap();
    assert!(validate_response(&doc, "HEAD", "/health/live", 200, PROBLEM, &[RID], b"").is_err());
    assert!(validate_response(&doc, "HEAD", "/health/live", 200, JSON, &[RID], b"{}").is_err());

    // A path parameter that breaks its schema names nothing: 404 whatever the method.
    for path in [
        "/api/users/abc",
        "/api/users/0",
        "/api/users/01",
        "/api/users/-1",
    ] {
        validate_response(&doc, "GET", path, 404, PROBLEM, &[RID], &not_found).unwrap();
        validate_response(&doc, "PATCH", path, 404, PROBLEM, &[RID], &not_found).unwrap();
        let forbidden = bytes(&problem(403, "Forbidden", "forbidden"));
        assert!(
            validate_response(&doc, "GET", path, 403, PROBLEM, &[RID], &forbidden).is_err(),
            "{path}"
        );
        assert!(
            validate_response(&doc, "PATCH", path, 405, PROBLEM, &allow, &not_allowed).is_err(),
            "{path}"
        );
    }
    let too_big = "/api/pokemon/9223372036854775808";
    validate_response(&doc, "GET", too_big, 404, PROBLEM, &[RID], &not_found).unwrap();
}

#[test]
fn the_documents_patterns_and_date_times_are_checked() {
    let doc = document();
    let check = |name: &str, value: Value| validate_schema(&doc, &schema(name), &value);
    let user = |username: &str, created_at: &str| {
        json!({"id": 1, "username": username, "created_at": created_at,
               "favorites_count": 0})
    };
    assert!(check("Profile", user("Misty_99", "2026-11-27T10:15:32Z")).is_ok());
    for bad in ["ab", "ash ketchum", "ésa", &"x".repeat(33)] {
        assert!(
            check("Profile", user(bad, "2026-11-27T10:15:32Z")).is_err(),
            "{bad}"
        );
    }
    for bad in ["2026-11-27", "2026-02-29T00:00:00Z", "2026-11-27T24:00:00Z"] {
        assert!(check("Profile", user("ash", bad)).is_err(), "{bad}");
    }
}
