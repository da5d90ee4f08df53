//! What `openapi.json` promises as a document: OpenAPI 3.1 with the info and server a
//! client needs, every `$ref` resolving, only schema keywords and formats the checker
//! checks, examples valid, the route table's operations, each documenting the errors
//! its handler can produce, and the path templates concrete paths fall under.
//! (How the checker reads a document is tested in the host crate, `openapi_check`.)

use crate::openapi_check::{
    document, match_path, nodes, operations, resolve, schema_compiles, schemas, unchecked,
    validate_schema,
};
use serde_json::Value;

#[test]
fn the_document_is_openapi_3_1_with_info_and_a_server() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "pokefavs");
    assert_eq!(doc["info"]["version"], "3.0.0");
    assert!(doc["info"]["description"]
        .as_str()
        .unwrap()
        .contains("64 KiB"));
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:3000");
    let scheme = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
}

#[test]
fn every_ref_resolves() {
    let doc = document();
    let mut refs = 0;
    for (at, node) in nodes(&doc) {
        if let Some(reference) = node.get("$ref") {
            refs += 1;
            let target = resolve(&doc, node).unwrap_or_else(|err| panic!("{at}: {err}"));
            assert!(target.is_object(), "{at}: {reference} is not an object");
        }
    }
    assert!(refs > 50, "only {refs} $refs: is the document complete?");
}

#[test]
fn every_schema_uses_only_keywords_and_formats_that_are_checked() {
    let doc = document();
    let all = schemas(&doc);
    assert!(all.len() > 80, "only {} schemas found", all.len());
    assert_eq!(unchecked(&doc), Vec::<String>::new());
    // And each schema compiles: malformed keyword values (`"type": "text"`) and
    // patterns are errors there.
    for (at, schema) in all {
        schema_compiles(&doc, schema).unwrap_or_else(|err| panic!("{at}: {err}"));
    }
}

#[test]
fn every_example_validates_against_its_schema() {
    let doc = document();
    let mut checked = 0;
    for (at, schema) in schemas(&doc) {
        for example in schema["examples"].as_array().into_iter().flatten() {
            validate_schema(&doc, schema, example).unwrap_or_else(|err| panic!("{at}: {err}"));
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} examples");
}

#[test]
fn the_operations_are_the_route_table() {
    let mut found = operations(&document());
    found.sort();
    let mut expected: Vec<(String, String)> = [
        ("GET", "/health/live"),
        ("GET", "/health"),
        ("POST", "/api/auth/register"),
        ("POST", "/api/auth/login"),
        ("POST", "/api/auth/logout"),
        ("GET", "/api/users/me"),
        ("GET", "/api/users/{id}"),
        ("DELETE", "/api/users/{id}"),
        ("PUT", "/api/users/{id}/password"),
        ("GET", "/api/users/{id}/favorites"),
        ("POST", "/api/users/{id}/favorites"),
        ("PUT", "/api/users/{id}/favorites"),
        ("DELETE", "/api/users/{id}/favorites/{pokemon_id}"),
        ("GET", "/api/pokemon"),
        ("GET", "/api/pokemon/{id}"),
        ("GET", "/api/openapi.json"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    // Every GET has its HEAD.
    let heads: Vec<(String, String)> = expected
        .iter()
        .filter(|(method, _)| method == "GET")
        .map(|(_, path)| ("HEAD".to_string(), path.clone()))
        .collect();
    expected.extend(heads);
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn each_operation_documents_the_errors_its_handler_can_produce() {
    let doc = document();
    let no_database = ["/health/live", "/health", "/api/openapi.json"];
    for (method, template) in operations(&doc) {
        let operation = &doc["paths"][&template][method.to_ascii_lowercase()];
        let responses = operation["responses"].as_object().unwrap();
        if method == "HEAD" {
            head_is_get_without_bodies(&doc, &template);
            continue;
        }
        let has = |status: &str| responses.contains_key(status);
        let what = format!("{method} {template}");
        let authed = operation.get("security").is_some();
        let unauthorized =
            operation["responses"]["401"]["$ref"] == "#/components/responses/Unauthorized";
        assert_eq!(authed, unauthorized, "{what}: security and 401 go together");
        if template.contains("/users/{id}") {
            assert!(authed && has("403") && has("404"), "{what}: 403/404");
        }
        if template.contains('{') {
            assert!(has("404"), "{what}: a bad id in the path is 404");
        }
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(has(status), "{what}: {status}");
            }
        }
        if !no_database.contains(&template.as_str()) {
            assert!(has("500") && has("503"), "{what}: 500 and 503");
        }
        for (status, response) in responses {
            let response = resolve(&doc, response).unwrap();
            assert_eq!(
                response["headers"]["x-request-id"]["$ref"], "#/components/headers/RequestId",
                "{what} {status}: x-request-id"
            );
            let error = status.starts_with('4') || status.starts_with('5');
            if error && template != "/health" {
                assert!(
                    response["content"]
                        .get("application/problem+json")
                        .is_some(),
                    "{what} {status}: problem+json"
                );
            }
        }
    }
}

/// A HEAD operation documents what its GET does, status for status, with the same
/// headers and no body.
fn head_is_get_without_bodies(doc: &Value, template: &str) {
    let item = &doc["paths"][template];
    let head = &item["head"];
    let get = &item["get"];
    for key in ["parameters", "security", "tags"] {
        assert_eq!(head.get(key), get.get(key), "HEAD {template}: {key}");
    }
    let statuses = |op: &Value| -> Vec<String> {
        op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(statuses(head), statuses(get), "HEAD {template}: statuses");
    for (status, response) in head["responses"].as_object().unwrap() {
        let get_response = resolve(doc, &get["responses"][status]).unwrap();
        assert!(
            response.get("content").is_none(),
            "HEAD {template} {status}: a body"
        );
        assert_eq!(
            response["headers"], get_response["headers"],
            "HEAD {template} {status}: headers"
        );
    }
}

#[test]
fn concrete_paths_match_their_templates() {
    let doc = document();
    let cases = [
        ("/api/users/me", Some("/api/users/me")),
        ("/api/users/7", Some("/api/users/{id}")),
        ("/api/users/abc", Some("/api/users/{id}")),
        (
            "/api/users/7/favorites?limit=5",
            Some("/api/users/{id}/favorites"),
        ),
        (
            "/api/users/7/favorites/25",
            Some("/api/users/{id}/favorites/{pokemon_id}"),
        ),
        ("/api/users//favorites", None),
        ("/api/users/me/", None),
        ("/health/", None),
        ("/nope", None),
        ("", None),
    ];
    for (path, template) in cases {
        assert_eq!(match_path(&doc, path).as_deref(), template, "{path}");
    }
}
