//! The checker's own tests: what it accepts and refuses, on documents written here for
//! the purpose, so that they test the checking whatever `openapi.json` says. What
//! `openapi.json` itself promises is tested with the component, in
//! `tests/api/openapi_document.rs` and `tests/api/openapi_responses.rs`.

use super::*;
use serde_json::{json, Value};

const JSON: Option<&str> = Some("application/json");
const PROBLEM: Option<&str> = Some("application/problem+json");
const RID: (&str, &str) = ("x-request-id", "0123456789abcdef");

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

fn problem(status: u16, code: &str) -> Vec<u8> {
    bytes(&json!({"status": status, "code": code}))
}

/// A small API shaped like the real one: a collection with GET (and HEAD) and POST, a
/// literal path beside a parameter path, a DELETE answering 204, a path parameter
/// declared on the operation, errors as problem+json through `4XX`, `default` and
/// `$ref` chains, and the two components the rules for unknown paths and methods use.
fn shop() -> Value {
    let rid = json!({"$ref": "#/components/headers/RequestId"});
    let problem = json!({"$ref": "#/components/responses/Problem"});
    let problem_body = json!({"application/problem+json":
        {"schema": {"$ref": "#/components/schemas/Problem"}}});
    json!({
        "openapi": "3.1.0",
        "paths": {
            "/items": {
                "get": {"responses": {
                    "200": {
                        "description": "the items",
                        "headers": {"x-request-id": rid},
                        "content": {"application/json": {"schema":
                            {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
                    },
                    "4XX": problem,
                }},
                "head": {"responses": {"200": {"description": "GET's headers"}}},
                "post": {"responses": {
                    "201": {
                        "description": "created",
                        "headers": {
                            "x-request-id": rid,
                            "Location": {"required": true,
                                         "schema": {"type": "string", "pattern": "^/items/[0-9]+$"}},
                            // OpenAPI ignores a documented Content-Type header.
                            "Content-Type": {"required": true, "schema": {"const": "ignored"}},
                        },
                        "content": {"application/json":
                            {"schema": {"$ref": "#/components/schemas/Item"}}},
                    },
                    "503": {
                        "description": "busy",
                        "headers": {"x-request-id": rid,
                                    "Retry-After": {"$ref": "#/components/headers/RetryAfter"}},
                        "content": problem_body,
                    },
                    "default": problem,
                }},
            },
            "/items/latest": {"get": {"responses": {"200": {"$ref": "#/components/responses/OneItem"}}}},
            "/items/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "get": {"responses": {"200": {"$ref": "#/components/responses/OneItem"}, "404": problem}},
                "delete": {"responses": {"204": {"description": "gone", "headers": {"x-request-id": rid}}}},
            },
            "/tags/{tag}": {"get": {
                "parameters": [{"name": "tag", "in": "path", "required": true,
                                "schema": {"type": "string", "pattern": "^[a-z]+$"}}],
                "responses": {"200": {"$ref": "#/components/responses/OneItem"}},
            }},
        },
        "components": {
            "parameters": {"Id": {"name": "id", "in": "path", "required": true,
                                  "schema": {"type": "integer", "minimum": 1, "format": "int64"}}},
            "headers": {
                "RequestId": {"required": true,
                              "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"}},
                "RetryAfter": {"required": true, "schema": {"type": "integer", "minimum": 0}},
            },
            "schemas": {
                "Item": {"type": "object", "required": ["id", "name"],
                         "properties": {"id": {"type": "integer", "minimum": 1},
                                        "name": {"type": "string"}},
                         "additionalProperties": false},
                "Problem": {"type": "object", "required": ["status", "code"],
                            "properties": {"status": {"type": "integer"},
                                           "code": {"type": "string"}}},
            },
            "responses": {
                "OneItem": {"$ref": "#/components/responses/Item"},
                "Item": {"description": "one item", "headers": {"x-request-id": rid},
                         "content": {"application/json":
                            {"schema": {"$ref": "#/components/schemas/Item"}}}},
                "Problem": {"description": "an error", "headers": {"x-request-id": rid},
                            "content": problem_body},
                "NotFound": {"description": "nothing there", "headers": {"x-request-id": rid},
                             "content": problem_body},
                "MethodNotAllowed": {
                    "description": "not this method",
                    "headers": {"x-request-id": rid,
                                "Allow": {"required": true, "schema": {"type": "string"}}},
                    "content": problem_body,
                },
            },
        },
    })
}

#[test]
fn operations_and_path_templates_come_from_the_paths() {
    let doc = shop();
    let mut found = operations(&doc);
    found.sort();
    let expected: Vec<(String, String)> = [
        ("DELETE", "/items/{id}"),
        ("GET", "/items"),
        ("GET", "/items/latest"),
        ("GET", "/items/{id}"),
        ("GET", "/tags/{tag}"),
        ("HEAD", "/items"),
        ("POST", "/items"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(found, expected);

    // The template with the most literal segments wins; a parameter matches any one
    // non-empty segment (its schema is checked later); the query string is ignored.
    let cases = [
        ("/items", Some("/items")),
        ("/items/latest", Some("/items/latest")),
        ("/items/7", Some("/items/{id}")),
        ("/items/abc", Some("/items/{id}")),
        ("/items/7?limit=5", Some("/items/{id}")),
        ("/items/", None),
        ("/items/7/", None),
        ("/items//", None),
        ("/tags/x/y", None),
        ("/nope", None),
        ("", None),
    ];
    for (path, template) in cases {
        assert_eq!(match_path(&doc, path).as_deref(), template, "{path}");
    }
}

#[test]
fn an_answer_is_held_to_the_response_its_operation_documents() {
    let doc = shop();
    let item = bytes(&json!({"id": 1, "name": "ball"}));
    let created = [RID, ("Location", "/items/1")];
    let post = |content_type: Option<&str>, headers: &[(&str, &str)], body: &[u8]| {
        validate_response(&doc, "POST", "/items", 201, content_type, headers, body)
    };
    post(JSON, &created, &item).unwrap();
    // Header names compare case-insensitively; a documented Content-Type is ignored.
    post(
        JSON,
        &[("X-Request-Id", RID.1), ("location", "/items/1")],
        &item,
    )
    .unwrap();
    // A required header missing, or breaking its schema.
    assert!(post(JSON, &[RID], &item).unwrap_err().contains("Location"));
    assert!(post(JSON, &[("Location", "/items/1")], &item).is_err());
    let elsewhere = [RID, ("Location", "/elsewhere")];
    let err = post(JSON, &elsewhere, &item).unwrap_err();
    assert!(err.contains("header Location"), "{err}");
    // The media type: parameters aside, one of the documented ones, and there.
    post(Some("application/json; charset=utf-8"), &created, &item).unwrap();
    assert!(post(PROBLEM, &created, &item).is_err());
    assert!(post(Some("text/plain"), &created, &item).is_err());
    assert!(post(None, &created, &item)
        .unwrap_err()
        .contains("no content-type"));
    // The body: JSON, valid against the media type's schema.
    let err = post(JSON, &created, &bytes(&json!({"id": 1}))).unwrap_err();
    assert!(err.contains("breaks the schema"), "{err}");
    let err = post(JSON, &created, b"{\"id\": 1,").unwrap_err();
    assert!(err.contains("not JSON"), "{err}");

    // A status is found exactly, as a range, or as `default`; else it is undocumented.
    let not_found = problem(404, "not_found");
    validate_response(&doc, "GET", "/items", 404, PROBLEM, &[RID], &not_found).unwrap();
    let err =
        validate_response(&doc, "GET", "/items", 500, PROBLEM, &[RID], &not_found).unwrap_err();
    assert!(err.contains("not documented"), "{err}");
    let failed = problem(500, "internal");
    validate_response(&doc, "POST", "/items", 500, PROBLEM, &[RID], &failed).unwrap();
    // A response reached through a chain of `$ref`s.
    validate_response(&doc, "GET", "/items/latest", 200, JSON, &[RID], &item).unwrap();

    // A header's text stands for an integer when its schema says so: plain decimal.
    let busy = problem(503, "busy");
    let retry = |value: &str| {
        let headers = [RID, ("retry-after", value)];
        validate_response(&doc, "POST", "/items", 503, PROBLEM, &headers, &busy)
    };
    retry("1").unwrap();
    for bad in ["soon", "01", "+1", "-1", "1e3", ""] {
        assert!(retry(bad).is_err(), "Retry-After: {bad:?}");
    }
    assert!(validate_response(&doc, "POST", "/items", 503, PROBLEM, &[RID], &busy).is_err());

    // Documented without content: no body and no content type.
    validate_response(&doc, "DELETE", "/items/3", 204, None, &[RID], b"").unwrap();
    assert!(validate_response(&doc, "DELETE", "/items/3", 204, None, &[RID], b"{}").is_err());
    assert!(validate_response(&doc, "DELETE", "/items/3", 204, JSON, &[RID], b"").is_err());

    // Methods are case-sensitive: `post` is no documented operation.
    let err = validate_response(&doc, "post", "/items", 201, JSON, &created, &item).unwrap_err();
    assert!(err.contains("expected 405"), "{err}");
}

#[test]
fn unlisted_paths_and_methods_and_broken_path_parameters_have_their_answers() {
    let doc = shop();
    let not_found = problem(404, "not_found");
    let not_allowed = problem(405, "method_not_allowed");

    // A path under no template: NotFound.
    validate_response(&doc, "GET", "/nope", 404, PROBLEM, &[RID], &not_found).unwrap();
    let err = validate_response(&doc, "GET", "/nope", 200, JSON, &[RID], b"{}").unwrap_err();
    assert!(err.contains("expected 404"), "{err}");

    // A method the path does not list: MethodNotAllowed, Allow naming exactly its
    // methods (in any order and case).
    let patch = |status: u16, headers: &[(&str, &str)]| {
        validate_response(
            &doc,
            "PATCH",
            "/items",
            status,
            PROBLEM,
            headers,
            &not_allowed,
        )
    };
    patch(405, &[RID, ("Allow", "GET, HEAD, POST")]).unwrap();
    patch(405, &[RID, ("allow", "post,get , head")]).unwrap();
    assert!(patch(405, &[RID, ("Allow", "GET, POST")]).is_err());
    assert!(patch(405, &[RID, ("Allow", "GET, HEAD, POST, PUT")]).is_err());
    assert!(patch(405, &[RID]).unwrap_err().contains("Allow"));
    assert!(patch(200, &[RID]).unwrap_err().contains("expected 405"));

    // A path parameter that breaks its schema names nothing: 404 whatever the method,
    // NotFound where the operation documents no 404 of its own.
    for path in [
        "/items/abc",
        "/items/0",
        "/items/01",
        "/items/-1",
        "/items/9223372036854775808",
    ] {
        validate_response(&doc, "GET", path, 404, PROBLEM, &[RID], &not_found).unwrap();
        validate_response(&doc, "PATCH", path, 404, PROBLEM, &[RID], &not_found).unwrap();
        let item = bytes(&json!({"id": 1, "name": "ball"}));
        let err = validate_response(&doc, "GET", path, 200, JSON, &[RID], &item).unwrap_err();
        assert!(err.contains("names nothing"), "{path}: {err}");
    }
    validate_response(
        &doc,
        "DELETE",
        "/items/abc",
        404,
        PROBLEM,
        &[RID],
        &not_found,
    )
    .unwrap();
    // A parameter the operation declares (not the path) is checked the same way.
    let item = bytes(&json!({"id": 1, "name": "ball"}));
    validate_response(&doc, "GET", "/tags/toys", 200, JSON, &[RID], &item).unwrap();
    validate_response(&doc, "GET", "/tags/Toys", 404, PROBLEM, &[RID], &not_found).unwrap();
    assert!(validate_response(&doc, "GET", "/tags/Toys", 200, JSON, &[RID], &item).is_err());
    let allow = [RID, ("Allow", "GET, DELETE")];
    assert!(validate_response(
        &doc,
        "PATCH",
        "/items/abc",
        405,
        PROBLEM,
        &allow,
        &not_allowed
    )
    .is_err());
    validate_response(
        &doc,
        "PATCH",
        "/items/7",
        405,
        PROBLEM,
        &allow,
        &not_allowed,
    )
    .unwrap();

    // HEAD: GET's status, headers and content type, and no body.
    validate_response(&doc, "HEAD", "/items", 200, JSON, &[RID], b"").unwrap();
    assert!(validate_response(&doc, "HEAD", "/items", 200, JSON, &[RID], b"[]").is_err());
    assert!(validate_response(&doc, "HEAD", "/items", 200, PROBLEM, &[RID], b"").is_err());
    assert!(validate_response(&doc, "HEAD", "/items", 200, JSON, &[("x", "y")], b"").is_err());
    // ... where the path lists HEAD; elsewhere it is a method like any other.
    let get_only = [RID, ("Allow", "GET")];
    validate_response(&doc, "HEAD", "/items/latest", 405, PROBLEM, &get_only, b"").unwrap();
    assert!(validate_response(&doc, "HEAD", "/items/latest", 200, JSON, &[RID], b"").is_err());
}

#[test]
fn a_keyword_or_format_the_checker_would_ignore_is_reported() {
    let doc = json!({"components": {"schemas": {
        "Legacy": {"type": "string", "nullable": true},
        "Nested": {"type": "object", "properties": {"a": {"discriminator": {}}}},
        "Deeper": {"allOf": [{"not": {"x-internal": 1}}]},
        "Format": {"type": "string", "format": "pokemon-name"},
    }}});
    let found = unchecked(&doc);
    for expected in [
        "/components/schemas/Legacy: keyword nullable",
        "/components/schemas/Nested/properties/a: keyword discriminator",
        "/components/schemas/Deeper/allOf/0/not: keyword x-internal",
        "/components/schemas/Format: format \"pokemon-name\"",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "{expected} not in {found:?}"
        );
    }
    assert_eq!(found.len(), 4, "{found:?}");
}

#[test]
fn the_validator_applies_each_keyword() {
    let doc = json!({"components": {"schemas": {"Small": {"type": "integer", "maximum": 3}}}});
    let check = |schema: Value, value: Value| validate_schema(&doc, &schema, &value);
    assert!(check(json!({"type": "integer"}), json!(25.0)).is_ok());
    assert!(check(json!({"type": "integer"}), json!(2.5)).is_err());
    assert!(check(json!({"type": ["string", "null"]}), json!(null)).is_ok());
    assert!(check(json!({"type": ["string", "null"]}), json!(1)).is_err());
    assert!(check(json!({"enum": [1, "a"]}), json!(1.0)).is_ok());
    assert!(check(json!({"const": "a"}), json!("b")).is_err());
    assert!(check(json!({"minimum": 1}), json!(0)).is_err());
    assert!(check(json!({"maximum": 9223372036854775807_i64}), json!(i64::MAX)).is_ok());
    assert!(check(json!({"maximum": 9223372036854775807_i64}), json!(u64::MAX)).is_err());
    assert!(check(json!({"format": "int64"}), json!(u64::MAX)).is_err());
    assert!(check(json!({"format": "int64"}), json!(i64::MIN)).is_ok());
    assert!(check(json!({"format": "int32"}), json!(1_i64 << 31)).is_err());
    assert!(check(json!({"format": "int32", "minimum": 5}), json!(4)).is_err());
    assert!(check(json!({"minLength": 2, "maxLength": 3}), json!("éé")).is_ok());
    assert!(check(json!({"maxLength": 3}), json!("éééé")).is_err());
    assert!(check(json!({"minItems": 1}), json!([])).is_err());
    assert!(check(json!({"maxItems": 1}), json!([1, 2])).is_err());
    assert!(check(json!({"uniqueItems": true}), json!([1, 2, 1.0])).is_err());
    assert!(check(json!({"uniqueItems": true}), json!([[1], [2]])).is_ok());
    assert!(check(json!({"items": {"minimum": 1}}), json!([1, 0]))
        .unwrap_err()
        .starts_with("at \"/1\""));
    assert!(check(json!({"required": ["a"]}), json!({})).is_err());
    assert!(
        check(json!({"required": ["a"]}), json!(3)).is_ok(),
        "applies to objects only"
    );
    let closed = json!({"properties": {"a": {}}, "additionalProperties": false});
    assert!(check(closed.clone(), json!({"a": 1})).is_ok());
    assert!(check(closed, json!({"a": 1, "b": 2})).is_err());
    let one_of = json!({"oneOf": [{"type": "integer"}, {"minimum": 0}]});
    assert!(check(one_of.clone(), json!(-1)).is_ok());
    assert!(check(one_of.clone(), json!(1)).is_err(), "both match");
    assert!(check(one_of, json!(-1.5)).is_err(), "neither matches");
    assert!(check(
        json!({"anyOf": [{"type": "integer"}, {"minimum": 0}]}),
        json!(1)
    )
    .is_ok());
    assert!(check(
        json!({"anyOf": [{"type": "string"}, {"minimum": 0}]}),
        json!(-1)
    )
    .is_err());
    let reference = json!({"$ref": "#/components/schemas/Small", "minimum": 2});
    assert!(check(reference.clone(), json!(3)).is_ok());
    assert!(
        check(reference.clone(), json!(4)).is_err(),
        "the target applies"
    );
    assert!(check(reference, json!(1)).is_err(), "siblings apply too");
    assert!(check(
        json!({"format": "date-time"}),
        json!("2026-11-27T10:15:32Z")
    )
    .is_ok());
    assert!(check(json!({"format": "date-time"}), json!("2026-11-27")).is_err());
}

#[test]
fn schemas_that_cannot_be_checked_fail_loudly() {
    let doc = json!({});
    let check = |schema: Value| validate_schema(&doc, &schema, &json!("x"));
    assert!(check(json!({"format": "pokemon-name"})).is_err());
    assert!(check(json!({"pattern": "(unclosed"})).is_err());
    assert!(check(json!({"type": "text"})).is_err());
    assert!(check(json!({"$ref": "other.json#/A"})).is_err());
    assert!(check(json!({"$ref": "#/nowhere"})).is_err());
}
