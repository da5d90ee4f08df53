//! The catalog: lookups, prefix search, and pagination over all 1025 entries.

use crate::helpers::{assert_json, assert_problem, store_tests, TestApp};
use serde_json::json;

store_tests!(
    a_pokemon_by_number,
    search_matches_a_name_prefix_ignoring_case,
    walking_every_page_returns_each_pokemon_once,
    search_pages_too,
    bad_search_parameters_are_422
);

fn a_pokemon_by_number(app: TestApp) {
    let body = assert_json(&app.get("/api/pokemon/25", None), 200);
    assert_eq!(body, json!({"id": 25, "name": "Pikachu"}));
    assert_eq!(
        app.get("/api/pokemon/1025", None).json()["name"],
        "Pecharunt"
    );
    assert_eq!(
        app.get("/api/pokemon/83", None).json()["name"],
        "Farfetch'd"
    );
    assert_eq!(app.get("/api/pokemon/29", None).json()["name"], "Nidoran♀");
    assert_problem(&app.get("/api/pokemon/1026", None), 404, "not_found");
    assert_problem(&app.get("/api/pokemon/0", None), 404, "not_found");
    assert_problem(&app.get("/api/pokemon/pikachu", None), 404, "not_found");
}

fn search_matches_a_name_prefix_ignoring_case(app: TestApp) {
    let body = assert_json(&app.get("/api/pokemon?q=pika", None), 200);
    assert_eq!(
        body,
        json!({"items": [{"id": 25, "name": "Pikachu"}], "next_cursor": null})
    );
    let names = |q: &str| -> Vec<String> {
        app.get(&format!("/api/pokemon?q={q}&limit=200"), None)
            .json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names("CHAR"),
        [
            "Charmander",
            "Charmeleon",
            "Charizard",
            "Charjabug",
            "Charcadet"
        ]
    );
    assert_eq!(names("mr.%20"), ["Mr. Mime", "Mr. Rime"]);
    assert_eq!(names("Mr.+M"), ["Mr. Mime"]);
    assert_eq!(names("achu"), Vec::<String>::new(), "prefix, not substring");
    assert_eq!(
        names("%25"),
        Vec::<String>::new(),
        "a % in the query is literal"
    );
    assert_eq!(
        names("_"),
        Vec::<String>::new(),
        "an _ in the query is literal"
    );
    assert_eq!(names("farfetch'"), ["Farfetch'd"]);
    assert_eq!(names("Flab%C3%A9b%C3%A9"), ["Flabébé"]);
    assert_eq!(names("'%20OR%201=1--"), Vec::<String>::new());
}

fn walking_every_page_returns_each_pokemon_once(app: TestApp) {
    for limit in [200, 77] {
        let mut ids = Vec::new();
        let mut path = format!("/api/pokemon?limit={limit}");
        loop {
            let body = assert_json(&app.get(&path, None), 200);
            ids.extend(
                body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].as_i64().unwrap()),
            );
            match body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/pokemon?limit={limit}&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(ids, (1..=1025).collect::<Vec<i64>>(), "limit {limit}");
    }
    let first = assert_json(&app.get("/api/pokemon", None), 200);
    assert_eq!(
        first["items"].as_array().unwrap().len(),
        50,
        "the default page is 50"
    );
}

fn search_pages_too(app: TestApp) {
    let first = assert_json(&app.get("/api/pokemon?q=b&limit=3", None), 200);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = assert_json(
        &app.get(&format!("/api/pokemon?q=b&limit=3&cursor={cursor}"), None),
        200,
    );
    let ids = |page: &serde_json::Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&first), [1, 9, 12]);
    assert_eq!(ids(&second), [15, 69, 153]);
}

fn bad_search_parameters_are_422(app: TestApp) {
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("cursor=xyz", "cursor"),
        ("q=%E0%A4", "q"),
        (&format!("q={}", "a".repeat(65)) as &str, "q"),
    ] {
        let response = app.get(&format!("/api/pokemon?{query}"), None);
        let problem = assert_problem(&response, 422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
}
