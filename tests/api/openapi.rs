//! `openapi.json`, the router and the README's route table describe the same API.
//! (Every response of every test is also validated against the document: see
//! `helpers::check_response`.)

use crate::helpers::{assert_json, base64url, store_tests, TestApp};
use crate::host::StoreMode;
use crate::openapi_check;
use pokefavs::ROUTES;
use serde_json::json;
use std::collections::BTreeSet;

/// (METHOD, template) for every route of the route table.
fn table_operations() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|route| (route.method.to_string(), route.template.to_string()))
        .collect()
}

/// (METHOD, template) for every operation the router answers: the table's, and `HEAD`
/// wherever `GET` is.
fn router_operations() -> BTreeSet<(String, String)> {
    let mut operations = table_operations();
    for route in ROUTES.iter().filter(|r| r.method == http::Method::GET) {
        operations.insert(("HEAD".to_string(), route.template.to_string()));
    }
    operations
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
    // The README lists the table's operations, and says once that GET routes answer HEAD.
    assert_eq!(listed, table_operations());
    assert!(readme.contains("also answers `HEAD`"));
}

#[test]
fn the_readme_settings_table_lists_every_spin_variable_with_its_default() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let manifest: toml::Table = include_str!("../../spin.toml").parse().unwrap();
    let declared = manifest["variables"].as_table().unwrap();
    // Rows whose first cell is a `name`: the settings table.
    let listed: BTreeSet<(String, String)> = readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let default = cells.get(2)?;
            Some((name.to_string(), default.to_string()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = declared
        .iter()
        .map(|(name, spec)| {
            let default = match spec.get("default").and_then(|d| d.as_str()) {
                Some("") => "empty".to_string(),
                Some(value) => format!("`{value}`"),
                None => "– (required, secret)".to_string(),
            };
            (name.clone(), default)
        })
        .collect();
    assert_eq!(listed, expected);
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

/// The `cursor` patterns of the document and the component's decoder agree: a schema
/// fuzzer that draws a cursor from the pattern gets a page, and one that draws a value
/// outside it gets 422. (.ci/cursor_pattern.py derives the patterns and checks them on
/// many more samples against a port of the decoder; this holds them to the real one.)
#[test]
fn the_cursor_patterns_admit_exactly_the_cursors_the_component_takes() {
    let app = TestApp::new(StoreMode::Local);
    let user = app.user("pager");
    let doc = openapi_check::document();
    let keys = [
        "1",
        "9",
        "10",
        "25",
        "1024",
        "100000000000000000",
        "999999999999999999",
        "9223372036854775806",
        "9223372036854775807",
        "9223372036854775808",
        "9223372036854775817",
        "9999999999999999999",
        "10000000000000000000",
        "0",
        "01",
        "-1",
        "+1",
        "1.5",
        "",
        "x",
    ];
    let mut texts = vec![String::new(), "0".into(), "cDI1=".into(), "cDI1Zg".into()];
    for tag in ["f", "p", "F", "q", ""] {
        for key in keys {
            let text = base64url(format!("{tag}{key}").as_bytes());
            if text.is_empty() {
                continue;
            }
            // The same bytes with the unused low bits of the last character set, and
            // one character more or less.
            let last = text.chars().last().unwrap_or('A');
            let bumped = char::from_u32(last as u32 + 1).filter(char::is_ascii_alphanumeric);
            texts.extend(bumped.map(|c| format!("{}{c}", &text[..text.len() - 1])));
            texts.push(format!("{text}A"));
            texts.push(text[..text.len().saturating_sub(1)].to_string());
            texts.push(text);
        }
    }
    let lists = [
        ("/api/pokemon".to_string(), "PokemonCursor"),
        (
            format!("/api/users/{}/favorites", user.id),
            "FavoritesCursor",
        ),
    ];
    let mut accepted = 0;
    for (path, schema) in &lists {
        let schema = json!({ "$ref": format!("#/components/schemas/{schema}") });
        for text in &texts {
            let valid = openapi_check::validate_schema(&doc, &schema, &json!(text)).is_ok();
            let response = app.get(&format!("{path}?limit=1&cursor={text}"), Some(&user.token));
            assert_eq!(
                response.status,
                if valid { 200 } else { 422 },
                "{path}?cursor={text}: the pattern says {}",
                if valid { "valid" } else { "invalid" }
            );
            accepted += usize::from(valid);
        }
    }
    // Both lists accept their own cursors of every length, and refuse the other's.
    assert!(accepted >= 2 * 9, "only {accepted} cursors were valid");
}
