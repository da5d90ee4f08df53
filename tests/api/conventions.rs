//! The contract's conventions that every route shares: body size, content type, JSON
//! shape, problem+json, request ids in bodies and log lines, and nothing leaked.

use crate::helpers::{assert_json, assert_problem, store_tests, TestApp};

const REGISTER: &str = "/api/auth/register";

store_tests!(
    a_body_over_64_kib_is_413_without_being_parsed,
    a_declared_length_over_64_kib_is_413_before_reading,
    a_body_that_is_not_json_is_415_or_400,
    every_request_writes_one_structured_log_line,
    a_valid_traceparent_puts_its_ids_in_the_log_line,
    a_replayed_answer_says_so_in_the_log_line,
    a_500_body_carries_only_an_id_that_its_log_line_also_has,
    logs_never_carry_passwords_hashes_or_tokens
);

fn a_body_over_64_kib_is_413_without_being_parsed(app: TestApp) {
    let mut body = br#"{"username":"ash","password":""#.to_vec();
    body.resize(64 * 1024 + 1 - 2, b'x');
    body.extend_from_slice(br#""}"#);
    assert_eq!(body.len(), 64 * 1024 + 1);
    let response = app.raw(
        "POST",
        REGISTER,
        &[("content-type", "application/json")],
        &body,
    );
    assert_problem(&response, 413, "payload_too_large");
    assert!(
        response.stats.statements.is_empty(),
        "refused before any database work"
    );
    // Exactly 64 KiB is accepted as far as the size goes (the password is then too long).
    body.truncate(64 * 1024 - 2);
    body.extend_from_slice(br#""}"#);
    let response = app.raw(
        "POST",
        REGISTER,
        &[("content-type", "application/json")],
        &body,
    );
    assert_problem(&response, 422, "validation_failed");
}

fn a_declared_length_over_64_kib_is_413_before_reading(app: TestApp) {
    let body = vec![b' '; 70_000];
    let response = app.raw(
        "POST",
        REGISTER,
        &[
            ("content-type", "application/json"),
            ("content-length", "70000"),
        ],
        &body,
    );
    assert_problem(&response, 413, "payload_too_large");
    // Too large is too large, whatever the body claims to be.
    let response = app.raw(
        "POST",
        REGISTER,
        &[("content-type", "text/plain"), ("content-length", "70000")],
        &body,
    );
    assert_problem(&response, 413, "payload_too_large");
}

fn a_body_that_is_not_json_is_415_or_400(app: TestApp) {
    let json_body = br#"{"username":"ash","password":"pikachu-pal"}"#;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonx",
    ] {
        let response = app.raw(
            "POST",
            REGISTER,
            &[("content-type", content_type)],
            json_body,
        );
        assert_problem(&response, 415, "unsupported_media_type");
    }
    let response = app.raw("POST", REGISTER, &[], json_body);
    assert_problem(&response, 415, "unsupported_media_type");
    for body in [
        &b"{"[..],
        b"",
        b"{\"username\": }",
        b"\xff\xfe",
        b"null",
        b"[1]",
        b"\"x\"",
        b"42",
    ] {
        let response = app.raw(
            "POST",
            REGISTER,
            &[("content-type", "application/json")],
            body,
        );
        assert_problem(&response, 400, "malformed_json");
    }
    let response = app.raw(
        "POST",
        REGISTER,
        &[("content-type", "application/json; charset=utf-8")],
        json_body,
    );
    assert_json(&response, 201);
}

fn every_request_writes_one_structured_log_line(app: TestApp) {
    app.get("/health", None); // migrate first, so only the request's own line is left
    let response = app.get("/api/pokemon?q=pika&limit=5", None);
    let lines: Vec<&str> = response.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/api/pokemon", "no query string in the log");
    assert_eq!(line["status"], 200);
    assert!(line["duration_ms"].as_f64().is_some());
    assert_eq!(line["request_id"], response.header("x-request-id").unwrap());
    // In one write: each write is a host call, and the line is on every request.
    assert_eq!(response.stats.stderr_writes, 1);
    // The route's template groups requests by operation; a 404 has none.
    assert_eq!(line["route"], "/api/pokemon");
    let favorite = app.get("/api/users/7/favorites", None);
    let line: serde_json::Value = serde_json::from_str(favorite.stderr.trim()).unwrap();
    assert_eq!(line["route"], "/api/users/{id}/favorites");
    let missing = app.get("/api/nothing", None);
    let line: serde_json::Value = serde_json::from_str(missing.stderr.trim()).unwrap();
    assert_eq!(line.get("route"), None);
}

fn a_valid_traceparent_puts_its_ids_in_the_log_line(app: TestApp) {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let span = "00f067aa0ba902b7";
    let valid = format!("00-{trace}-{span}-01");
    let line_of = |headers: &[(&str, &str)]| -> serde_json::Value {
        let response = app.send_with("GET", "/health/live", None, None, headers);
        assert_eq!(response.status, 200);
        serde_json::from_str(response.stderr.trim()).expect("one JSON line")
    };
    let line = line_of(&[("traceparent", &valid)]);
    assert_eq!(line["trace_id"], trace);
    assert_eq!(line["span_id"], span);
    // Ignored: no field, a malformed one, two of them (ambiguous), an all-zero trace.
    let zeros = format!("00-{}-{span}-01", "0".repeat(32));
    let upper = valid.to_uppercase();
    let cases: [&[(&str, &str)]; 5] = [
        &[],
        &[("traceparent", "00-abc-def-01")],
        &[("traceparent", &upper)],
        &[("traceparent", &valid), ("traceparent", &valid)],
        &[("traceparent", &zeros)],
    ];
    for headers in cases {
        let line = line_of(headers);
        assert_eq!(line.get("trace_id"), None, "{headers:?}");
        assert_eq!(line.get("span_id"), None, "{headers:?}");
    }
}

fn a_replayed_answer_says_so_in_the_log_line(app: TestApp) {
    let ash = app.user("ash");
    let path = format!("/api/users/{}/favorites/25", ash.id);
    assert_eq!(app.add_favorite(&ash, 25).status, 201);
    let line_of = || -> serde_json::Value {
        let headers = [("idempotency-key", "k")];
        let response = app.send_with("DELETE", &path, Some(&ash.token), None, &headers);
        assert_eq!(response.status, 204);
        serde_json::from_str(response.stderr.trim()).expect("one JSON line")
    };
    assert_eq!(line_of().get("replayed"), None, "the request that decided");
    assert_eq!(line_of()["replayed"], true);
}

fn a_500_body_carries_only_an_id_that_its_log_line_also_has(app: TestApp) {
    let ash = app.user("ash");
    // Every time: a missing table makes the request check the schema and try once more.
    app.host.faults().fail_matching(
        "INSERT INTO favorites",
        crate::host::io("no such table: favorites"),
        crate::host::FaultTimes::Always,
    );
    let response = app.add_favorite(&ash, 25);
    let body = assert_problem(&response, 500, "internal");
    let id = response.header("x-request-id").unwrap();
    assert_eq!(body["detail"], format!("Internal error, id {id}"));
    assert!(!response.text().contains("favorites"), "no SQL in the body");
    let line: serde_json::Value =
        serde_json::from_str(response.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(line["request_id"], id);
    assert_eq!(line["status"], 500);
    assert!(
        line["error"].as_str().unwrap().contains("no such table"),
        "{line}"
    );
}

fn logs_never_carry_passwords_hashes_or_tokens(app: TestApp) {
    let register = app.register("ash", "pikachu-pal");
    let login = app.login("ash", "pikachu-pal");
    let token = login.json()["access_token"].as_str().unwrap().to_string();
    let me = app.me(&token);
    let wrong = app.login("ash", "wrong-password");
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    let hash: String = conn
        .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
        .unwrap();
    for response in [&register, &login, &me, &wrong] {
        for secret in [
            "pikachu-pal",
            "wrong-password",
            token.as_str(),
            hash.as_str(),
        ] {
            assert!(
                !response.stderr.contains(secret),
                "log leaks: {}",
                response.stderr
            );
        }
        assert!(!response.text().contains(&hash));
        assert!(!response.text().contains("pikachu-pal"));
    }
}
