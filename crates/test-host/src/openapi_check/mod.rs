//! Checks the component's answers against `openapi.json`, so a test (or a fuzzer loop)
//! can ask "does this response break the document?" for any request it made.
//!
//! [`validate_response`] finds the operation a request hit, the response documented for
//! the status, and checks the media type, the documented headers and the body: that much
//! is OpenAPI, and lives here, as does following `$ref`s from response, parameter and
//! header objects into `components`. Whether a value fits a schema is JSON Schema
//! (draft 2020-12), and [`validate_schema`] leaves it to the `jsonschema` crate, with
//! formats asserted and an unknown format an error. OpenAPI's own integer formats
//! (`int32`, `int64`) become the bounds they stand for before a schema is compiled.
//!
//! A keyword `jsonschema` does not know would be ignored silently, so the document may
//! use only the keywords of [`KNOWN_KEYWORDS`]: the crate's draft 2020-12 keywords and
//! three annotations. The tests hold the document to that, so it cannot drift past what
//! is checked.
//!
//! Besides its operations, the document states two rules in `info.description` that
//! OpenAPI cannot attach to an operation, and [`validate_response`] checks them too:
//! a path that matches no template must get `components/responses/NotFound`, and a path
//! that matches one with a method it does not list must get
//! `components/responses/MethodNotAllowed` with an `Allow` header naming exactly the
//! methods it lists. A path whose parameters break their schemas (`/api/users/abc`)
//! names no resource, so it must get 404 whatever the method.

use jsonschema::{Draft, Validator};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The operation keys of an OpenAPI path item, in the order they are reported.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The annotations the document may use besides the keywords `jsonschema` implements
/// for draft 2020-12: they assert nothing, by the specification.
pub const ANNOTATIONS: [&str; 3] = ["description", "default", "examples"];

/// OpenAPI's integer formats, with the bounds they stand for: JSON Schema knows no
/// integer formats (its `format` applies to strings), so these become `minimum`/`maximum`.
const INTEGER_FORMATS: [(&str, i64, i64); 2] = [
    ("int32", i32::MIN as i64, i32::MAX as i64),
    ("int64", i64::MIN, i64::MAX),
];

/// Keys under which a schema holds data rather than subschemas.
const DATA_KEYWORDS: [&str; 4] = ["enum", "const", "default", "examples"];

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

/// Checks one response against the document: that `status` is documented for the
/// operation `method concrete_path` hit (exactly, as `4XX`, or as `default`), that the
/// content type's essence is one of the response's media types (or that there is neither
/// content type nor body when it documents none), that the body is JSON valid against
/// the media type's schema, and that every documented header is present when required
/// and valid against its schema when present. Header names compare case-insensitively.
pub fn validate_response<N: AsRef<str>, V: AsRef<str>>(
    doc: &Value,
    method: &str,
    concrete_path: &str,
    status: u16,
    content_type: Option<&str>,
    headers: &[(N, V)],
    body: &[u8],
) -> Result<(), String> {
    let path = strip_query(concrete_path);
    let what = format!("{method} {path} -> {status}");
    // HEAD (RFC 9110 §9.3.2): the status and header fields GET would send, no body.
    let head = method == "HEAD";
    let check = |response: &Value| -> Result<(), String> {
        match head {
            true => check_head(doc, response, content_type, headers, body),
            false => check_response(doc, response, content_type, headers, body),
        }
        .map_err(|err| format!("{what}: {err}"))
    };

    let Some(template) = match_path(doc, path) else {
        if status != 404 {
            return Err(format!("{what}: no path template matches, so expected 404"));
        }
        return check(component(doc, "responses", "NotFound")?);
    };
    let item = resolve(doc, &doc["paths"][&template])?;
    // Methods are case-sensitive (RFC 9110 §9.1): `get` is not `GET`, and gets a 405.
    let documented_spelling = !method.bytes().any(|b| b.is_ascii_lowercase());
    let operation = match item.get(method.to_ascii_lowercase()) {
        // A HEAD answer is GET's without the body (the document's HEAD operations say the
        // same, status for status, with the same headers: its own tests check that).
        Some(_) if head && documented_spelling => {
            item.get("get").map(|get| resolve(doc, get)).transpose()?
        }
        Some(operation) if documented_spelling => Some(resolve(doc, operation)?),
        _ => None,
    };

    if let Some(why) = broken_path_param(doc, item, operation, &template, path)? {
        if status != 404 {
            return Err(format!(
                "{what}: {why}, so the path names nothing: expected 404"
            ));
        }
        let response = match operation.and_then(|op| op["responses"].get("404")) {
            Some(response) => resolve(doc, response)?,
            None => component(doc, "responses", "NotFound")?,
        };
        return check(response);
    }

    let Some(operation) = operation else {
        if status != 405 {
            return Err(format!(
                "{what}: {template} has no {method} operation, so expected 405"
            ));
        }
        check(component(doc, "responses", "MethodNotAllowed")?)?;
        let allow = header(headers, "allow").ok_or_else(|| format!("{what}: no Allow header"))?;
        let mut allowed: Vec<String> = allow
            .split(',')
            .map(|m| m.trim().to_ascii_uppercase())
            .collect();
        allowed.sort();
        let mut documented: Vec<String> = METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_ascii_uppercase())
            .collect();
        documented.sort();
        if allowed != documented {
            return Err(format!(
                "{what}: Allow says {allow:?}, the document lists {documented:?}"
            ));
        }
        return Ok(());
    };

    let documented = |operation: &Value| -> Result<Value, String> {
        let responses = resolve(doc, &operation["responses"])?;
        let range = format!("{}XX", status / 100);
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get(&range))
            .or_else(|| responses.get("default"))
            .ok_or_else(|| format!("{what}: status {status} is not documented for {template}"))?;
        Ok(resolve(doc, response)?.clone())
    };
    check(&documented(operation)?)
}

/// Checks a HEAD answer against the response GET would give: the headers as documented,
/// a content type among the documented ones (none if no body is documented), no body.
fn check_head<N: AsRef<str>, V: AsRef<str>>(
    doc: &Value,
    response: &Value,
    content_type: Option<&str>,
    headers: &[(N, V)],
    body: &[u8],
) -> Result<(), String> {
    if !body.is_empty() {
        return Err(format!("a HEAD answer has a {}-byte body", body.len()));
    }
    let mut headers_only = response.clone();
    let content = headers_only
        .as_object_mut()
        .and_then(|object| object.remove("content"));
    check_response(doc, &headers_only, None, headers, body)?;
    let media_types: Vec<String> = content
        .as_ref()
        .and_then(Value::as_object)
        .map(|content| content.keys().cloned().collect())
        .unwrap_or_default();
    let essence = content_type.map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let documented = match &essence {
        None => media_types.is_empty(),
        Some(essence) => media_types.iter().any(|m| m.eq_ignore_ascii_case(essence)),
    };
    if !documented {
        return Err(format!(
            "content-type {content_type:?}, but the documented media types are {media_types:?}"
        ));
    }
    Ok(())
}

/// Validates `value` against `schema` (which may `$ref` into `doc`). The error names
/// where in the value each failure is, as a JSON pointer (`/items/0/name`).
pub fn validate_schema(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    let validator = validator(doc, schema)?;
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|error| format!("at {:?}: {error}", error.instance_path().as_str()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// Whether `keyword` may appear in one of the document's schemas: `jsonschema` asserts it
/// under draft 2020-12, or it is one of the [`ANNOTATIONS`].
pub fn is_known_keyword(keyword: &str) -> bool {
    Draft::Draft202012.is_known_keyword(keyword) || ANNOTATIONS.contains(&keyword)
}

/// Whether a `format` of this name is checked: by `jsonschema` or, for OpenAPI's integer
/// formats, as bounds.
pub fn is_known_format(name: &str) -> bool {
    INTEGER_FORMATS.iter().any(|(known, _, _)| *known == name)
        || jsonschema::options().is_known_format(Draft::Draft202012, name)
}

/// A compiled validator for `schema` within `doc`. Compiling is far slower than
/// validating and every test checks the same few schemas, so validators are kept, per
/// schema and document.
fn validator(doc: &Value, schema: &Value) -> Result<Arc<Validator>, String> {
    type Compiled = HashMap<String, Vec<(Value, Arc<Validator>)>>;
    static COMPILED: OnceLock<Mutex<Compiled>> = OnceLock::new();
    let key = schema.to_string();
    let compiled = COMPILED.get_or_init(Default::default);
    if let Some(found) = compiled
        .lock()
        .expect("the validator cache")
        .get(&key)
        .and_then(|entries| entries.iter().find(|(d, _)| d == doc))
    {
        return Ok(Arc::clone(&found.1));
    }
    let validator = Arc::new(compile(doc, schema)?);
    compiled
        .lock()
        .expect("the validator cache")
        .entry(key)
        .or_default()
        .push((doc.clone(), Arc::clone(&validator)));
    Ok(validator)
}

/// Compiles `schema` with `doc` as its root resource, so that its `$ref`s (`#/components/
/// ...`) resolve into the document: the root is the document itself, whose OpenAPI keys
/// are no JSON Schema keywords, with `schema` under `$defs` and a `$ref` to it.
fn compile(doc: &Value, schema: &Value) -> Result<Validator, String> {
    let mut root = doc.clone();
    let fields = root
        .as_object_mut()
        .ok_or("the document is not a JSON object")?;
    fields.insert("$defs".into(), serde_json::json!({ "checked": schema }));
    fields.insert("$ref".into(), "#/$defs/checked".into());
    with_integer_bounds(&mut root);
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&root)
        .map_err(|err| format!("the schema {schema} does not compile: {err}"))
}

/// Replaces each `format: int32`/`int64` under `node` by the bounds it stands for (as an
/// `allOf` branch, so that bounds of the schema's own still apply).
fn with_integer_bounds(node: &mut Value) {
    match node {
        Value::Object(fields) => {
            let bounds = fields
                .get("format")
                .and_then(Value::as_str)
                .and_then(|name| INTEGER_FORMATS.iter().find(|(known, _, _)| *known == name));
            if let Some((_, min, max)) = bounds {
                let branch = serde_json::json!({ "minimum": min, "maximum": max });
                fields.remove("format");
                match fields.get_mut("allOf").and_then(Value::as_array_mut) {
                    Some(branches) => branches.push(branch),
                    None => {
                        fields.insert("allOf".into(), Value::Array(vec![branch]));
                    }
                }
            }
            for (key, child) in fields.iter_mut() {
                if !DATA_KEYWORDS.contains(&key.as_str()) {
                    with_integer_bounds(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(with_integer_bounds),
        _ => {}
    }
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

fn component<'a>(doc: &'a Value, kind: &str, name: &str) -> Result<&'a Value, String> {
    let node = doc["components"][kind]
        .get(name)
        .ok_or_else(|| format!("the document has no components/{kind}/{name}"))?;
    resolve(doc, node)
}

fn strip_query(path: &str) -> &str {
    path.split_once('?').map_or(path, |(path, _)| path)
}

fn is_template_param(part: &str) -> bool {
    part.len() > 2 && part.starts_with('{') && part.ends_with('}')
}

/// The first value of a header, its name compared case-insensitively.
fn header<'h, N: AsRef<str>, V: AsRef<str>>(headers: &'h [(N, V)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
}

/// Why a path parameter of `path` breaks its schema, if one does (`Ok(None)` if all
/// are valid). `Err` means the document itself is broken.
fn broken_path_param(
    doc: &Value,
    item: &Value,
    operation: Option<&Value>,
    template: &str,
    path: &str,
) -> Result<Option<String>, String> {
    let mut declared: Vec<&Value> = Vec::new();
    for list in [Some(item), operation]
        .into_iter()
        .flatten()
        .filter_map(|node| node["parameters"].as_array())
    {
        for parameter in list {
            declared.push(resolve(doc, parameter)?);
        }
    }
    for (part, segment) in template.split('/').zip(path.split('/')) {
        if !is_template_param(part) {
            continue;
        }
        let name = &part[1..part.len() - 1];
        // An operation's parameter overrides the path item's of the same name: last wins.
        let parameter = declared
            .iter()
            .rev()
            .find(|p| p["in"] == "path" && p["name"] == name)
            .ok_or_else(|| format!("{template}: path parameter {name} is not declared"))?;
        let schema = parameter
            .get("schema")
            .ok_or_else(|| format!("{template}: path parameter {name} has no schema"))?;
        let valid =
            text_value(doc, schema, segment).and_then(|value| validate_schema(doc, schema, &value));
        if let Err(err) = valid {
            return Ok(Some(format!("path parameter {name} = {segment:?}: {err}")));
        }
    }
    Ok(None)
}

/// The JSON value a text (a path segment, a header value) stands for under `schema`:
/// an integer if the schema's type is `integer` (plain decimal only: no sign other than
/// `-`, no leading zero, no exponent), a string otherwise.
fn text_value(doc: &Value, schema: &Value, text: &str) -> Result<Value, String> {
    let schema = resolve(doc, schema)?;
    let wants_integer = match &schema["type"] {
        Value::String(name) => name == "integer",
        Value::Array(names) => names.iter().any(|n| n == "integer"),
        _ => false,
    };
    if !wants_integer {
        return Ok(Value::String(text.to_string()));
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    match text.parse::<i64>() {
        Ok(n) if canonical => Ok(Value::from(n)),
        _ => Err(format!("{text:?} is not a 64-bit integer in plain decimal")),
    }
}

/// Checks headers, media type and body against one (resolved) response object.
fn check_response<N: AsRef<str>, V: AsRef<str>>(
    doc: &Value,
    response: &Value,
    content_type: Option<&str>,
    headers: &[(N, V)],
    body: &[u8],
) -> Result<(), String> {
    if let Some(documented) = response.get("headers") {
        let documented = documented
            .as_object()
            .ok_or("the response's headers are not an object")?;
        for (name, spec) in documented {
            if name.eq_ignore_ascii_case("content-type") {
                continue; // OpenAPI ignores a documented Content-Type header
            }
            let spec = resolve(doc, spec)?;
            match header(headers, name) {
                Some(text) => {
                    if let Some(schema) = spec.get("schema") {
                        text_value(doc, schema, text)
                            .and_then(|value| validate_schema(doc, schema, &value))
                            .map_err(|err| format!("header {name}: {text:?}: {err}"))?;
                    }
                }
                None if spec["required"] == true => {
                    return Err(format!("the required header {name} is missing"));
                }
                None => {}
            }
        }
    }

    let content = response
        .get("content")
        .and_then(Value::as_object)
        .filter(|content| !content.is_empty());
    let Some(content) = content else {
        if !body.is_empty() {
            return Err(format!(
                "no body is documented, got {} bytes: {}",
                body.len(),
                preview(body)
            ));
        }
        if let Some(content_type) = content_type {
            return Err(format!(
                "no body is documented, but content-type is {content_type:?}"
            ));
        }
        return Ok(());
    };
    let documented: Vec<&String> = content.keys().collect();
    let content_type =
        content_type.ok_or_else(|| format!("no content-type; expected one of {documented:?}"))?;
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (media_name, media) = content
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&essence))
        .ok_or_else(|| format!("content-type {content_type:?} is not one of {documented:?}"))?;
    if !(essence == "application/json" || essence.ends_with("+json")) {
        return Err(format!(
            "{media_name} bodies cannot be validated here (JSON only)"
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        format!(
            "the {media_name} body is not JSON ({err}): {}",
            preview(body)
        )
    })?;
    match resolve(doc, media)?.get("schema") {
        Some(schema) => validate_schema(doc, schema, &value)
            .map_err(|err| format!("the body breaks the schema: {err}; body: {value}")),
        None => Ok(()),
    }
}

/// The start of a body, for error messages.
fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut shown: String = text.chars().take(200).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    /// Every node of the document with where it sits, depth first.
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
    fn schemas(doc: &Value) -> Vec<(String, &Value)> {
        let mut roots: Vec<(String, &Value)> = Vec::new();
        let mut nodes = Vec::new();
        walk(doc, String::new(), &mut nodes);
        for (at, node) in &nodes {
            let parent_is_schema_holder = at.ends_with("/schema")
                || (at.starts_with("/components/schemas/") && at.matches('/').count() == 3);
            if parent_is_schema_holder && !at.contains("/examples/") {
                roots.push((at.clone(), *node));
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
    fn unchecked(doc: &Value) -> Vec<String> {
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
        let mut nodes = Vec::new();
        walk(&doc, String::new(), &mut nodes);
        let mut refs = 0;
        for (at, node) in nodes {
            if let Some(reference) = node.get("$ref") {
                refs += 1;
                let target = pointer(&doc, reference).unwrap_or_else(|err| panic!("{at}: {err}"));
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
            validator(&doc, schema).unwrap_or_else(|err| panic!("{at}: {err}"));
        }
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
        assert!(
            validate_schema(&doc, &not_found, &problem(404, "Not Found", "forbidden")).is_err()
        );
        assert!(
            validate_schema(&doc, &not_found, &problem(403, "Forbidden", "not_found")).is_err()
        );

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
        let user =
            bytes(&json!({"id": 1, "username": "ash", "created_at": "2026-11-27T10:15:32Z"}));
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
        let err = validate_response(&doc, "GET", "/api/pokemon", 401, PROBLEM, &[RID], &body)
            .unwrap_err();
        assert!(err.contains("not documented"), "{err}");
        // 204: no body, no content type.
        let no_headers: [(&str, &str); 0] = [];
        let private = [RID, ("Cache-Control", "no-store")];
        validate_response(&doc, "DELETE", "/api/users/3", 204, None, &private, b"").unwrap();
        assert!(
            validate_response(&doc, "DELETE", "/api/users/3", 204, None, &private, b"{}").is_err()
        );
        assert!(
            validate_response(&doc, "DELETE", "/api/users/3", 204, JSON, &private, b"").is_err()
        );
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
        assert!(
            validate_response(&doc, "GET", "/api/pokemon", 503, PROBLEM, &[RID], &busy).is_err()
        );
        let bad_retry = [RID, ("retry-after", "soon")];
        assert!(
            validate_response(&doc, "GET", "/api/pokemon", 503, PROBLEM, &bad_retry, &busy)
                .is_err()
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
        assert!(
            validate_response(&doc, "PATCH", path, 405, PROBLEM, &[RID], &not_allowed).is_err()
        );
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
        assert!(
            validate_response(&doc, "HEAD", "/health/live", 200, PROBLEM, &[RID], b"").is_err()
        );
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
}
