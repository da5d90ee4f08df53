//! The document itself: read from `openapi.json`, its operations, which path template a
//! concrete path falls under, and following its `$ref`s.

use serde_json::Value;

/// The operation keys of an OpenAPI path item, in the order they are reported.
pub(super) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How deep `$ref`s and nested schemas may go before the document is deemed cyclic.
const MAX_DEPTH: usize = 64;

/// The document, read from `openapi.json` at the crate root (what the component serves).
pub fn document() -> Value {
    let path = crate::repo_root().join("openapi.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()))
}

/// Every operation as `(METHOD, path template)`, e.g. `("GET", "/api/users/{id}")`.
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let Some(paths) = doc["paths"].as_object() else {
        return found;
    };
    for (template, item) in paths {
        let item = resolve(doc, item).unwrap_or(item);
        for method in METHODS {
            if item.get(method).is_some() {
                found.push((method.to_ascii_uppercase(), template.clone()));
            }
        }
    }
    found
}

/// The path template a concrete path (a query string is ignored) falls under: literal
/// segments must be equal, a `{name}` segment matches one non-empty segment. When
/// several match, the one with the most literal segments wins (`/api/users/me` over
/// `/api/users/{id}`), as OpenAPI prescribes.
pub fn match_path(doc: &Value, concrete_path: &str) -> Option<String> {
    let segments: Vec<&str> = strip_query(concrete_path).split('/').collect();
    let mut best: Option<(usize, &String)> = None;
    for template in doc["paths"].as_object()?.keys() {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literals = 0;
        let mut matched = true;
        for (part, segment) in parts.iter().zip(&segments) {
            if is_template_param(part) {
                matched &= !segment.is_empty();
            } else {
                literals += 1;
                matched &= part == segment;
            }
        }
        if matched && best.is_none_or(|(most, _)| literals > most) {
            best = Some((literals, template));
        }
    }
    best.map(|(_, template)| template.clone())
}

/// Follows `$ref`s from `node` until it is not a reference (for response, parameter
/// and header objects, where a `$ref` stands for the whole object).
pub fn resolve<'a>(doc: &'a Value, mut node: &'a Value) -> Result<&'a Value, String> {
    for _ in 0..MAX_DEPTH {
        match node.get("$ref") {
            Some(reference) => node = pointer(doc, reference)?,
            None => return Ok(node),
        }
    }
    Err(format!("$ref chain too long at {node}"))
}

/// The target of one local `$ref` (`#/components/...`).
fn pointer<'a>(doc: &'a Value, reference: &Value) -> Result<&'a Value, String> {
    let text = reference
        .as_str()
        .ok_or_else(|| format!("$ref {reference} is not a string"))?;
    let fragment = text
        .strip_prefix('#')
        .ok_or_else(|| format!("$ref {text:?} is not local; only #/... is supported"))?;
    doc.pointer(fragment)
        .ok_or_else(|| format!("$ref {text:?} points at nothing"))
}

/// A named object of `components` (`responses`, `headers`, ...), its `$ref`s followed.
pub(super) fn component<'a>(doc: &'a Value, kind: &str, name: &str) -> Result<&'a Value, String> {
    let node = doc["components"][kind]
        .get(name)
        .ok_or_else(|| format!("the document has no components/{kind}/{name}"))?;
    resolve(doc, node)
}

/// The path without its query string.
pub(super) fn strip_query(path: &str) -> &str {
    path.split_once('?').map_or(path, |(path, _)| path)
}

/// Whether a template's segment is a parameter (`{id}`).
pub(super) fn is_template_param(part: &str) -> bool {
    part.len() > 2 && part.starts_with('{') && part.ends_with('}')
}
