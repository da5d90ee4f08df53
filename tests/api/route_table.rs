//! The component's route table, `pokefavs::ROUTES`, as the sweeps over "every route"
//! see it: an operation is `METHOD template` (`POST /api/auth/logout`). The fuzzer, the
//! fault sweep and the upgrade walk each check with [`assert_covered`] that they reach
//! every operation of the table or say why not, so a route added to the table is not
//! silently left out of them.
//!
//! Only `method` and `template` of a table entry are read here; which operation a
//! request reached is found by our own matcher ([`operation_of`]) or from the
//! component's log line ([`logged_operation`]).

use crate::host::HostResponse;
use pokefavs::ROUTES;
use std::collections::BTreeSet;

/// An operation's name, as the table and the coverage messages spell it.
pub fn operation(method: &str, template: &str) -> String {
    format!("{method} {template}")
}

/// Every operation of the table.
pub fn table() -> BTreeSet<String> {
    ROUTES
        .iter()
        .map(|route| operation(route.method.as_str(), route.template))
        .collect()
}

/// Whether `segment` is what a `{…}` segment of a template takes: a positive decimal
/// integer without a sign or leading zeros (the component parses it further; a number
/// too large for an id still reaches the route's matcher).
fn is_parameter(segment: &str) -> bool {
    !segment.is_empty() && !segment.starts_with('0') && segment.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `path` (no query string) has the shape of `template`.
pub fn matches(template: &str, path: &str) -> bool {
    let (mut want, mut got) = (template.split('/'), path.split('/'));
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(pattern), Some(segment)) if pattern.starts_with('{') => {
                if !is_parameter(segment) {
                    return false;
                }
            }
            (Some(pattern), Some(segment)) if pattern == segment => {}
            _ => return false,
        }
    }
}

/// The operation a request for `method` on `target` (a query string is ignored) runs,
/// if any: `HEAD` runs the `GET` route's.
pub fn operation_of(method: &str, target: &str) -> Option<String> {
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    let method = if method == "HEAD" { "GET" } else { method };
    ROUTES
        .iter()
        .find(|route| route.method.as_str() == method && matches(route.template, path))
        .map(|route| operation(method, route.template))
}

/// The operation the component says it ran for `response`: the `method` and `route` of
/// its request log line (the last line of stderr), if they name an operation of the
/// table. A 404 or 405 names none.
pub fn logged_operation(response: &HostResponse) -> Option<String> {
    let line = response.stderr.lines().rev().find_map(|line| {
        serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .filter(|v| v.get("request_id").is_some())
    })?;
    let method = match line["method"].as_str()? {
        "HEAD" => "GET",
        method => method,
    };
    let named = operation(method, line["route"].as_str()?);
    table().contains(&named).then_some(named)
}

/// Fails unless every operation of the table is in `reached` or in `excused` (each with
/// the reason it is left out), and unless every excused operation is still in the table
/// and was not reached after all (then its excuse is stale).
#[track_caller]
pub fn assert_covered(what: &str, reached: &BTreeSet<String>, excused: &[(&str, &str)]) {
    let table = table();
    let excused_ops: BTreeSet<String> = excused.iter().map(|(op, _)| op.to_string()).collect();
    let missing: Vec<&String> = table
        .iter()
        .filter(|op| !reached.contains(*op) && !excused_ops.contains(*op))
        .collect();
    let stale: Vec<&String> = excused_ops
        .iter()
        .filter(|op| !table.contains(*op))
        .collect();
    let needless: Vec<&String> = excused_ops
        .iter()
        .filter(|op| reached.contains(*op))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty() && needless.is_empty(),
        "{what} must reach every route of pokefavs::ROUTES or list it as left out, with \
         the reason:\n  not reached: {missing:?}\n  left out but not in the table: \
         {stale:?}\n  left out but reached: {needless:?}"
    );
}

#[test]
fn every_route_s_example_path_is_its_own_operation() {
    for route in &ROUTES {
        let path = route.example_path();
        let op = operation(route.method.as_str(), route.template);
        assert_eq!(
            operation_of(route.method.as_str(), &path),
            Some(op),
            "{path}"
        );
        assert_eq!(operation_of("PATCH", &path), None, "{path}");
    }
    for path in [
        "/api/users/0",
        "/api/users/01",
        "/api/users/-1",
        "/api/users/1/",
        "/api/users//1",
        "/api/users/me/x",
    ] {
        assert_eq!(operation_of("GET", path), None, "{path}");
    }
    assert_eq!(
        operation_of("HEAD", "/api/pokemon?q=x").as_deref(),
        Some("GET /api/pokemon")
    );
}

#[test]
#[should_panic(expected = "not reached: [\"POST /api/auth/logout\"]")]
fn a_sweep_that_misses_a_route_fails() {
    let mut reached = table();
    reached.remove("POST /api/auth/logout");
    assert_covered("a sweep", &reached, &[]);
}

#[test]
#[should_panic(expected = "left out but not in the table: [\"GET /gone\"]")]
fn a_stale_excuse_fails() {
    assert_covered("a sweep", &table(), &[("GET /gone", "it was removed")]);
}
