//! `openapi.json`, the router and the README's route table describe the same API.
//! (Every response of every test is also validated against the document: see
//! `helpers::check_response`.)

use crate::helpers::{assert_json, store_tests, TestApp};
use crate::openapi_check;
use pokefavs::ROUTES;
use std::collections::BTreeSet;

/// (METHOD, template) for every route the router has.
fn router_operations() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|route| (route.method.to_string(), route.template.to_string()))
        .collect()
}

#[test]
fn the_document_and_the_router_have_the_same_operations() {
    let documented: BTreeSet<(String, String)> =
        openapi_check::operations(&openapi_check::document())
            .into_iter()
            .collect();
    let routed = router_operations();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(missing.is_empty(), "routed but not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
}

#[test]
fn the_readme_route_table_lists_the_same_operations() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let listed: BTreeSet<(String, String)> = readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let method = *cells.get(1)?;
            if !["GET", "POST", "PUT", "DELETE"].contains(&method) {
                return None;
            }
            let path = cells.get(2)?.trim_matches('`');
            Some((method.to_string(), path.split('?').next()?.to_string()))
        })
        .collect();
    assert_eq!(listed, router_operations());
}

store_tests!(
    the_document_is_served_as_written,
    every_route_answers_with_the_methods_the_document_lists
);

fn the_document_is_served_as_written(app: TestApp) {
    let body = assert_json(&app.get("/api/openapi.json", None), 200);
    assert_eq!(body, openapi_check::document());
    assert_eq!(body["openapi"], "3.1.0");
}

fn every_route_answers_with_the_methods_the_document_lists(app: TestApp) {
    let doc = openapi_check::document();
    for route in &ROUTES {
        let path = &route.example_path();
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            // check_response validates each answer against the document, including
            // 405s on methods the document does not list for the path.
            let response = app.send(method, path, None, None);
            let template = openapi_check::match_path(&doc, path).expect("documented");
            let documented =
                openapi_check::operations(&doc).contains(&(method.to_string(), template.clone()));
            assert_eq!(response.status == 405, !documented, "{method} {path}");
        }
    }
}
