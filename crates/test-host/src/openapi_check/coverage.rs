//! What the document holds, for holding it to what the checker can check: every node
//! and every schema with where it sits, and what in those schemas the checker would not
//! check (keywords `jsonschema` would ignore, formats it does not know).

use serde_json::Value;

use super::schema::{is_known_format, is_known_keyword};

/// Every node of the document with where it sits (a JSON pointer), depth first.
pub fn nodes(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    walk(doc, String::new(), &mut out);
    out
}

/// `node` and every node within it, appended to `out` with where each sits.
fn walk<'a>(node: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    out.push((at.clone(), node));
    match node {
        Value::Object(map) => {
            for (key, child) in map {
                walk(child, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Every schema the document holds (not following `$ref`s), with where it sits.
pub fn schemas(doc: &Value) -> Vec<(String, &Value)> {
    let mut roots: Vec<(String, &Value)> = Vec::new();
    for (at, node) in nodes(doc) {
        let parent_is_schema_holder = at.ends_with("/schema")
            || (at.starts_with("/components/schemas/") && at.matches('/').count() == 3);
        if parent_is_schema_holder && !at.contains("/examples/") {
            roots.push((at, node));
        }
    }
    let mut all = Vec::new();
    for (at, root) in roots {
        subschemas(root, at, &mut all);
    }
    all
}

/// `schema` and every schema within it, through each applicator keyword of 2020-12.
fn subschemas<'a>(schema: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    out.push((at.clone(), schema));
    let Some(fields) = schema.as_object() else {
        return; // a boolean schema
    };
    for (key, child) in fields {
        let at = format!("{at}/{key}");
        match key.as_str() {
            "items"
            | "not"
            | "additionalProperties"
            | "contains"
            | "propertyNames"
            | "if"
            | "then"
            | "else"
            | "unevaluatedItems"
            | "unevaluatedProperties"
            | "contentSchema" => subschemas(child, at, out),
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                for (i, branch) in child.as_array().into_iter().flatten().enumerate() {
                    subschemas(branch, format!("{at}/{i}"), out);
                }
            }
            "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                for (name, branch) in child.as_object().into_iter().flatten() {
                    subschemas(branch, format!("{at}/{name}"), out);
                }
            }
            _ => {}
        }
    }
}

/// What in `doc`'s schemas the checker would not check: keywords it does not know
/// (they would be ignored) and formats it cannot check.
pub fn unchecked(doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for (at, schema) in schemas(doc) {
        for (key, value) in schema.as_object().into_iter().flatten() {
            if !is_known_keyword(key) {
                found.push(format!("{at}: keyword {key}"));
            }
            if key == "format" && !value.as_str().is_some_and(is_known_format) {
                found.push(format!("{at}: format {value}"));
            }
        }
    }
    found
}
