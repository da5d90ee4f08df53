//! Checks the component's answers against `openapi.json`, so a test (or a fuzzer loop)
//! can ask "does this response break the document?" for any request it made.
//!
//! [`validate_response`] finds the operation a request hit, the response documented for
//! the status, and checks the media type, the documented headers and the body. Bodies
//! are checked by [`validate_schema`], a small JSON Schema 2020-12 validator that knows
//! exactly the keywords the document uses: `type` (a name or an array of names),
//! `properties`, `required`, `additionalProperties` (a boolean), `items`, `enum`,
//! `const`, `minimum`, `maximum`, `minLength`, `maxLength` (counted in Unicode scalar
//! values), `minItems`, `maxItems`, `uniqueItems`, `pattern`, `format` (`date-time`,
//! `int64`, `int32`), `$ref` (local, with sibling keywords applied too, as 2020-12 does),
//! `oneOf`, `anyOf`, and the annotations `description`, `default` and `examples`.
//! Any other keyword, an unknown `format`, or a `pattern` outside the tiny anchored
//! subset that [`Pattern`] understands is an error, never silently ignored: the document
//! cannot drift past what this module checks.
//!
//! Besides its operations, the document states two rules in `info.description` that
//! OpenAPI cannot attach to an operation, and [`validate_response`] checks them too:
//! a path that matches no template must get `components/responses/NotFound`, and a path
//! that matches one with a method it does not list must get
//! `components/responses/MethodNotAllowed` with an `Allow` header naming exactly the
//! methods it lists. A path whose parameters break their schemas (`/api/users/abc`)
//! names no resource, so it must get 404 whatever the method.

use serde_json::{Number, Value};
use std::cmp::Ordering;

/// The operation keys of an OpenAPI path item, in the order they are reported.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The schema keywords this validator understands.
const KEYWORDS: [&str; 22] = [
    "$ref",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "pattern",
    "format",
    "oneOf",
    "anyOf",
    "description",
    "default",
    "examples",
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
    let check = |response: &Value| {
        check_response(doc, response, content_type, headers, body)
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

    let responses = resolve(doc, &operation["responses"])?;
    let range = format!("{}XX", status / 100);
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get(&range))
        .or_else(|| responses.get("default"))
        .ok_or_else(|| format!("{what}: status {status} is not documented for {template}"))?;
    check(resolve(doc, response)?)
}

/// Validates `value` against `schema` (which may `$ref` into `doc`). The error names
/// where in the value it failed, as `$.items[0].name`.
pub fn validate_schema(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    Validator { doc }.check(schema, value, "$", 0)
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

/// The schema validator: `doc` is where `$ref`s point into.
struct Validator<'d> {
    doc: &'d Value,
}

impl Validator<'_> {
    fn check(&self, schema: &Value, value: &Value, at: &str, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "{at}: schemas nest deeper than {MAX_DEPTH} (a $ref cycle?)"
            ));
        }
        let keywords = match schema {
            Value::Bool(true) => return Ok(()),
            Value::Bool(false) => return Err(format!("{at}: no value is allowed here")),
            Value::Object(keywords) => keywords,
            other => return Err(format!("{at}: the schema {other} is not an object")),
        };
        for key in keywords.keys() {
            if key == "nullable" {
                return Err(format!(
                    "{at}: `nullable` is OpenAPI 3.0; 3.1 says \"type\": [\"…\", \"null\"]"
                ));
            }
            if !KEYWORDS.contains(&key.as_str()) {
                return Err(format!("{at}: unsupported schema keyword `{key}`"));
            }
        }
        let keyword = |name: &str| keywords.get(name);

        if let Some(reference) = keyword("$ref") {
            let target = pointer(self.doc, reference)?;
            self.check(target, value, at, depth + 1)?;
        }
        if let Some(types) = keyword("type") {
            let names: Vec<&str> = match types {
                Value::String(name) => vec![name.as_str()],
                Value::Array(names) => names
                    .iter()
                    .map(|n| n.as_str().ok_or_else(|| format!("{at}: bad type {n}")))
                    .collect::<Result<_, _>>()?,
                other => return Err(format!("{at}: `type` {other} is neither a name nor a list")),
            };
            let mut any = false;
            for name in &names {
                any |= has_type(value, name).map_err(|err| format!("{at}: {err}"))?;
            }
            if !any {
                return Err(format!(
                    "{at}: expected {}, got {} {value}",
                    names.join(" or "),
                    type_name(value)
                ));
            }
        }
        if let Some(allowed) = keyword("enum") {
            let allowed = allowed
                .as_array()
                .ok_or_else(|| format!("{at}: `enum` is not an array"))?;
            if !allowed.iter().any(|a| json_equal(a, value)) {
                return Err(format!(
                    "{at}: {value} is not one of {}",
                    Value::from(allowed.clone())
                ));
            }
        }
        if let Some(constant) = keyword("const") {
            if !json_equal(constant, value) {
                return Err(format!("{at}: expected {constant}, got {value}"));
            }
        }
        self.check_number(keywords, value, at)?;
        self.check_string(keywords, value, at)?;
        self.check_array(keywords, value, at, depth)?;
        self.check_object(keywords, value, at, depth)?;

        if let Some(branches) = keyword("oneOf") {
            let branches = branches
                .as_array()
                .ok_or_else(|| format!("{at}: `oneOf` is not an array"))?;
            let mut failures = Vec::new();
            for (i, branch) in branches.iter().enumerate() {
                if let Err(err) = self.check(branch, value, at, depth + 1) {
                    failures.push(format!("[{i}] {err}"));
                }
            }
            let passed = branches.len() - failures.len();
            if passed != 1 {
                return Err(format!(
                    "{at}: matches {passed} of the {} oneOf schemas, expected exactly one ({})",
                    branches.len(),
                    failures.join("; ")
                ));
            }
        }
        if let Some(branches) = keyword("anyOf") {
            let branches = branches
                .as_array()
                .ok_or_else(|| format!("{at}: `anyOf` is not an array"))?;
            let mut failures = Vec::new();
            for (i, branch) in branches.iter().enumerate() {
                match self.check(branch, value, at, depth + 1) {
                    Ok(()) => return Ok(()),
                    Err(err) => failures.push(format!("[{i}] {err}")),
                }
            }
            return Err(format!(
                "{at}: matches none of the anyOf schemas ({})",
                failures.join("; ")
            ));
        }
        Ok(())
    }

    fn check_number(
        &self,
        keywords: &serde_json::Map<String, Value>,
        value: &Value,
        at: &str,
    ) -> Result<(), String> {
        for (name, too_far) in [("minimum", Ordering::Less), ("maximum", Ordering::Greater)] {
            let Some(bound) = keywords.get(name) else {
                continue;
            };
            let bound = bound
                .as_number()
                .ok_or_else(|| format!("{at}: `{name}` is not a number"))?;
            if let Value::Number(n) = value {
                if compare(n, bound) == Some(too_far) {
                    return Err(format!("{at}: {n} is beyond the {name} {bound}"));
                }
            }
        }
        if let Some(format) = keywords.get("format") {
            let format = format
                .as_str()
                .ok_or_else(|| format!("{at}: `format` is not a string"))?;
            let range = match format {
                "int64" => i128::from(i64::MIN)..=i128::from(i64::MAX),
                "int32" => i128::from(i32::MIN)..=i128::from(i32::MAX),
                "date-time" => return Ok(()),
                other => return Err(format!("{at}: unsupported format {other:?}")),
            };
            if let Value::Number(n) = value {
                if !exact_integer(n).is_some_and(|i| range.contains(&i)) {
                    return Err(format!("{at}: {n} is not an {format}"));
                }
            }
        }
        Ok(())
    }

    fn check_string(
        &self,
        keywords: &serde_json::Map<String, Value>,
        value: &Value,
        at: &str,
    ) -> Result<(), String> {
        // Compiled whatever the value, so an unsupported pattern fails every time.
        let pattern = match keywords.get("pattern") {
            Some(Value::String(source)) => {
                Some(Pattern::compile(source).map_err(|err| format!("{at}: {err}"))?)
            }
            Some(other) => return Err(format!("{at}: `pattern` {other} is not a string")),
            None => None,
        };
        let Value::String(text) = value else {
            return Ok(());
        };
        let length = text.chars().count() as u64;
        for (name, too_far) in [
            ("minLength", Ordering::Less),
            ("maxLength", Ordering::Greater),
        ] {
            if let Some(bound) = keywords.get(name) {
                let bound = bound
                    .as_u64()
                    .ok_or_else(|| format!("{at}: `{name}` is not a count"))?;
                if length.cmp(&bound) == too_far {
                    return Err(format!(
                        "{at}: {length} characters is beyond the {name} {bound}"
                    ));
                }
            }
        }
        if let Some(pattern) = pattern {
            if !pattern.matches(text) {
                return Err(format!("{at}: {text:?} does not match {}", pattern.source));
            }
        }
        if keywords.get("format").and_then(Value::as_str) == Some("date-time")
            && !is_date_time(text)
        {
            return Err(format!("{at}: {text:?} is not an RFC 3339 date-time"));
        }
        Ok(())
    }

    fn check_array(
        &self,
        keywords: &serde_json::Map<String, Value>,
        value: &Value,
        at: &str,
        depth: usize,
    ) -> Result<(), String> {
        let count = |name: &str| {
            keywords
                .get(name)
                .map(|bound| {
                    bound
                        .as_u64()
                        .ok_or_else(|| format!("{at}: `{name}` is not a count"))
                })
                .transpose()
        };
        let (min, max) = (count("minItems")?, count("maxItems")?);
        let unique = match keywords.get("uniqueItems") {
            Some(Value::Bool(unique)) => *unique,
            Some(other) => return Err(format!("{at}: `uniqueItems` {other} is not a boolean")),
            None => false,
        };
        let Value::Array(items) = value else {
            return Ok(());
        };
        let length = items.len() as u64;
        if let Some(min) = min {
            if length < min {
                return Err(format!("{at}: {length} items, fewer than minItems {min}"));
            }
        }
        if let Some(max) = max {
            if length > max {
                return Err(format!("{at}: {length} items, more than maxItems {max}"));
            }
        }
        if unique {
            for (i, a) in items.iter().enumerate() {
                if let Some(j) = items[i + 1..].iter().position(|b| json_equal(a, b)) {
                    return Err(format!("{at}: items {i} and {} are equal ({a})", i + 1 + j));
                }
            }
        }
        if let Some(schema) = keywords.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.check(schema, item, &format!("{at}[{i}]"), depth + 1)?;
            }
        }
        Ok(())
    }

    fn check_object(
        &self,
        keywords: &serde_json::Map<String, Value>,
        value: &Value,
        at: &str,
        depth: usize,
    ) -> Result<(), String> {
        let properties = match keywords.get("properties") {
            Some(Value::Object(properties)) => Some(properties),
            Some(other) => return Err(format!("{at}: `properties` {other} is not an object")),
            None => None,
        };
        let closed = match keywords.get("additionalProperties") {
            Some(Value::Bool(allowed)) => !allowed,
            Some(_) => {
                return Err(format!(
                    "{at}: only a boolean `additionalProperties` is supported"
                ))
            }
            None => false,
        };
        let Value::Object(object) = value else {
            return Ok(());
        };
        if let Some(required) = keywords.get("required") {
            let required = required
                .as_array()
                .ok_or_else(|| format!("{at}: `required` is not an array"))?;
            for name in required {
                let name = name
                    .as_str()
                    .ok_or_else(|| format!("{at}: `required` lists {name}"))?;
                if !object.contains_key(name) {
                    return Err(format!("{at}: the required property `{name}` is missing"));
                }
            }
        }
        if let Some(properties) = properties {
            for (name, schema) in properties {
                if let Some(property) = object.get(name) {
                    self.check(schema, property, &format!("{at}.{name}"), depth + 1)?;
                }
            }
        }
        if closed {
            if let Some(extra) = object
                .keys()
                .find(|name| !properties.is_some_and(|p| p.contains_key(*name)))
            {
                return Err(format!("{at}: unexpected property `{extra}`"));
            }
        }
        Ok(())
    }
}

/// Whether `value` is of the JSON Schema type `name` (`1.0` is an integer, as in 2020-12).
fn has_type(value: &Value, name: &str) -> Result<bool, String> {
    Ok(match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.as_number().is_some_and(is_integer),
        other => return Err(format!("unknown type {other:?}")),
    })
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if is_integer(n) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integer(n: &Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// The value of an integral JSON number (`25`, `25.0`), exactly.
fn exact_integer(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e30)
                .map(|f| f as i128)
        })
}

/// Compares two JSON numbers exactly when both are integers, as floats otherwise.
fn compare(a: &Number, b: &Number) -> Option<Ordering> {
    match (exact_integer(a), exact_integer(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// JSON equality as JSON Schema defines it: numbers by value (`1` equals `1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => compare(a, b) == Some(Ordering::Equal),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, a)| b.get(key).is_some_and(|b| json_equal(a, b)))
        }
        _ => a == b,
    }
}

/// An RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, with real calendar
/// days (leap years included) and a leap second allowed.
fn is_date_time(text: &str) -> bool {
    let number = |from: usize, to: usize| -> Option<u32> {
        let digits = text.get(from..to)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let at = |i: usize, allowed: &[u8]| text.as_bytes().get(i).is_some_and(|b| allowed.contains(b));
    let fields = (|| {
        let fields = [
            number(0, 4)?,
            number(5, 7)?,
            number(8, 10)?,
            number(11, 13)?,
            number(14, 16)?,
            number(17, 19)?,
        ];
        let separators =
            at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":");
        separators.then_some(fields)
    })();
    let Some([year, month, day, hour, minute, second]) = fields else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days || hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let two = |a: &u8, b: &u8| {
                (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'))
            };
            matches!((two(h1, h2), two(m1, m2)), (Some(h), Some(m)) if h <= 23 && m <= 59)
        }
        _ => false,
    }
}

/// The tiny regular-expression subset the document's patterns use: anchored at both
/// ends (`^…$`), a sequence of atoms — a literal character, an escaped punctuation
/// character (`\.`), or a character class of literals and ranges (`[A-Za-z0-9_.-]`) —
/// each optionally followed by `{n}`, `{m,n}`, `{m,}`, `+`, `*` or `?`. Groups,
/// alternation, `.`, negated classes, shorthand classes (`\d`) and lazy quantifiers are
/// refused, so a pattern this cannot check fails loudly instead of passing silently.
pub struct Pattern {
    source: String,
    pieces: Vec<Piece>,
}

struct Piece {
    /// Inclusive character ranges; a literal is a range of one.
    ranges: Vec<(char, char)>,
    min: usize,
    max: usize,
}

impl Pattern {
    pub fn compile(source: &str) -> Result<Pattern, String> {
        let unsupported = |why: &str| format!("unsupported pattern {source:?}: {why}");
        let body = source
            .strip_prefix('^')
            .and_then(|rest| rest.strip_suffix('$'))
            .ok_or_else(|| unsupported("it must be anchored as ^…$"))?;
        let mut chars = body.chars().peekable();
        let mut pieces = Vec::new();
        while let Some(c) = chars.next() {
            let ranges = match c {
                '[' => {
                    let mut ranges = Vec::new();
                    if chars.peek() == Some(&'^') {
                        return Err(unsupported("negated classes"));
                    }
                    loop {
                        let first = match chars.next() {
                            None => return Err(unsupported("an unclosed [")),
                            Some(']') if ranges.is_empty() => {
                                return Err(unsupported("an empty class"))
                            }
                            Some(']') => break,
                            Some('\\') => escaped(chars.next()).map_err(|w| unsupported(&w))?,
                            Some('[') => return Err(unsupported("a [ inside a class")),
                            Some(c) => c,
                        };
                        let mut lookahead = chars.clone();
                        if lookahead.next() == Some('-')
                            && lookahead.peek().is_some_and(|c| *c != ']')
                        {
                            chars.next();
                            let last = match chars.next() {
                                Some('\\') => escaped(chars.next()).map_err(|w| unsupported(&w))?,
                                Some(c) => c,
                                None => return Err(unsupported("an unclosed [")),
                            };
                            if last < first {
                                return Err(unsupported("a backwards range"));
                            }
                            ranges.push((first, last));
                        } else {
                            ranges.push((first, first));
                        }
                    }
                    ranges
                }
                '\\' => {
                    let c = escaped(chars.next()).map_err(|w| unsupported(&w))?;
                    vec![(c, c)]
                }
                '(' | ')' | '|' | '.' | '*' | '+' | '?' | '{' | '}' | ']' | '^' | '$' => {
                    return Err(unsupported(&format!("{c:?} outside the supported subset")));
                }
                c => vec![(c, c)],
            };
            let (min, max) = match chars.peek() {
                Some('+') => (1, usize::MAX),
                Some('*') => (0, usize::MAX),
                Some('?') => (0, 1),
                Some('{') => {
                    let mut inside = String::new();
                    chars.next();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => inside.push(c),
                            None => return Err(unsupported("an unclosed {")),
                        }
                    }
                    let count = |text: &str| {
                        text.parse::<usize>()
                            .map_err(|_| unsupported(&format!("the repetition {{{inside}}}")))
                    };
                    let bounds = match inside.split_once(',') {
                        None => (count(&inside)?, count(&inside)?),
                        Some((low, "")) => (count(low)?, usize::MAX),
                        Some((low, high)) => (count(low)?, count(high)?),
                    };
                    if bounds.0 > bounds.1 {
                        return Err(unsupported(
                            "a repetition whose minimum exceeds its maximum",
                        ));
                    }
                    pieces.push(Piece {
                        ranges,
                        min: bounds.0,
                        max: bounds.1,
                    });
                    if matches!(chars.peek(), Some('?' | '+' | '*' | '{')) {
                        return Err(unsupported("lazy, possessive or stacked quantifiers"));
                    }
                    continue;
                }
                _ => (1, 1),
            };
            if (min, max) != (1, 1) {
                chars.next();
                if matches!(chars.peek(), Some('?' | '+' | '*' | '{')) {
                    return Err(unsupported("lazy, possessive or stacked quantifiers"));
                }
            }
            pieces.push(Piece { ranges, min, max });
        }
        Ok(Pattern {
            source: source.to_string(),
            pieces,
        })
    }

    pub fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        match_from(&self.pieces, &chars)
    }
}

/// The character after a `\`: only ASCII punctuation may be escaped (to mean itself).
fn escaped(c: Option<char>) -> Result<char, String> {
    match c {
        Some(c) if c.is_ascii_punctuation() => Ok(c),
        Some(c) => Err(format!("the escape \\{c}")),
        None => Err("a trailing \\".into()),
    }
}

/// Whether `pieces` match all of `text`: each piece greedily, backing off on failure.
fn match_from(pieces: &[Piece], text: &[char]) -> bool {
    let Some((piece, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    let run = text
        .iter()
        .take(piece.max)
        .take_while(|c| piece.ranges.iter().any(|(lo, hi)| (lo..=hi).contains(c)))
        .count();
    (piece.min..=run)
        .rev()
        .any(|taken| match_from(rest, &text[taken..]))
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

    fn subschemas<'a>(schema: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
        out.push((at.clone(), schema));
        if let Some(properties) = schema["properties"].as_object() {
            for (name, child) in properties {
                subschemas(child, format!("{at}/properties/{name}"), out);
            }
        }
        if let Some(items) = schema.get("items") {
            subschemas(items, format!("{at}/items"), out);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema[key].as_array() {
                for (i, branch) in branches.iter().enumerate() {
                    subschemas(branch, format!("{at}/{key}/{i}"), out);
                }
            }
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_with_info_and_a_server() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "pokefavs");
        assert_eq!(doc["info"]["version"], "1.0.0");
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
    fn every_schema_stays_within_the_supported_keywords() {
        let doc = document();
        let all = schemas(&doc);
        assert!(all.len() > 80, "only {} schemas found", all.len());
        for (at, schema) in all {
            let keywords = schema
                .as_object()
                .unwrap_or_else(|| panic!("{at} is not an object"));
            for key in keywords.keys() {
                assert!(KEYWORDS.contains(&key.as_str()), "{at}: keyword {key}");
            }
            if let Some(pattern) = schema["pattern"].as_str() {
                Pattern::compile(pattern).unwrap_or_else(|err| panic!("{at}: {err}"));
            }
            if let Some(format) = schema.get("format") {
                assert!(
                    ["date-time", "int64", "int32"].contains(&format.as_str().unwrap()),
                    "{at}: format {format}"
                );
            }
            if let Some(additional) = schema.get("additionalProperties") {
                assert!(additional.is_boolean(), "{at}: additionalProperties");
            }
            if let Some(types) = schema.get("type") {
                let names: Vec<&Value> = match types {
                    Value::Array(names) => names.iter().collect(),
                    one => vec![one],
                };
                for name in names {
                    has_type(&Value::Null, name.as_str().unwrap())
                        .unwrap_or_else(|err| panic!("{at}: {err}"));
                }
            }
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
            ("GET", "/api/users/me"),
            ("GET", "/api/users/{id}"),
            ("DELETE", "/api/users/{id}"),
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
        assert!(err.contains("unexpected property `key`"), "{err}");
        let page = json!({"items": [bad], "next_cursor": null});
        let err = validate_schema(&doc, &schema("FavoritePage"), &page).unwrap_err();
        assert!(err.starts_with("$.items[0]"), "{err}");
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
        assert!(err.starts_with("$.code"), "{err}");

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
        let created = [RID, ("Location", "/api/users/1")];
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
        // The Location header is required, x-request-id too.
        let err = validate_response(&doc, "POST", "/api/auth/register", 201, JSON, &[RID], &user)
            .unwrap_err();
        assert!(err.contains("Location"), "{err}");
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
        validate_response(&doc, "DELETE", "/api/users/3", 204, None, &[RID], b"").unwrap();
        assert!(
            validate_response(&doc, "DELETE", "/api/users/3", 204, None, &[RID], b"{}").is_err()
        );
        assert!(validate_response(&doc, "DELETE", "/api/users/3", 204, JSON, &[RID], b"").is_err());
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
        let allow = [RID, ("Allow", "GET, POST, PUT")];
        validate_response(&doc, "PATCH", path, 405, PROBLEM, &allow, &not_allowed).unwrap();
        let wrong_allow = [RID, ("Allow", "GET, POST")];
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
        let me = [RID, ("allow", "GET")];
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
        validate_response(
            &doc,
            "HEAD",
            "/health/live",
            405,
            PROBLEM,
            &me,
            &not_allowed,
        )
        .unwrap();

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
        assert!(check(json!({"minLength": 2, "maxLength": 3}), json!("éé")).is_ok());
        assert!(check(json!({"maxLength": 3}), json!("éééé")).is_err());
        assert!(check(json!({"minItems": 1}), json!([])).is_err());
        assert!(check(json!({"maxItems": 1}), json!([1, 2])).is_err());
        assert!(check(json!({"uniqueItems": true}), json!([1, 2, 1.0])).is_err());
        assert!(check(json!({"uniqueItems": true}), json!([[1], [2]])).is_ok());
        assert!(check(json!({"items": {"minimum": 1}}), json!([1, 0]))
            .unwrap_err()
            .starts_with("$[1]"));
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
    fn unsupported_schemas_fail_loudly() {
        let doc = json!({});
        let check = |schema: Value| validate_schema(&doc, &schema, &json!("x"));
        assert!(check(json!({"nullable": true}))
            .unwrap_err()
            .contains("nullable"));
        assert!(check(json!({"allOf": []})).unwrap_err().contains("allOf"));
        assert!(check(json!({"format": "email"})).is_err());
        assert!(check(json!({"pattern": "x"})).is_err(), "unanchored");
        assert!(check(json!({"type": "text"})).is_err());
        assert!(check(json!({"$ref": "other.json#/A"})).is_err());
        assert!(check(json!({"$ref": "#/nowhere"})).is_err());
        assert!(check(json!({"additionalProperties": {"type": "string"}})).is_err());
    }

    #[test]
    fn patterns_in_the_supported_subset_match_like_regexes() {
        let username = Pattern::compile("^[A-Za-z0-9_.-]{3,32}$").unwrap();
        for ok in ["ash", "Misty_99", "a.b-c", &"x".repeat(32)] {
            assert!(username.matches(ok), "{ok}");
        }
        for bad in [
            "",
            "ab",
            &"x".repeat(33),
            "ash ketchum",
            "pikachu!",
            "ésa",
            "a/b",
        ] {
            assert!(!username.matches(bad), "{bad}");
        }
        let jwt = Pattern::compile("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$").unwrap();
        assert!(jwt.matches("eyJh.eyJz.c2ln"));
        assert!(!jwt.matches("eyJh.eyJz."));
        assert!(!jwt.matches("eyJh.eyJz.c2ln.x"));
        let location = Pattern::compile("^/api/users/[1-9][0-9]*$").unwrap();
        assert!(location.matches("/api/users/10"));
        assert!(!location.matches("/api/users/0"));
        assert!(!location.matches("/api/users/"));
        let optional = Pattern::compile("^ab?c{2,}$").unwrap();
        assert!(optional.matches("acc") && optional.matches("abccc"));
        assert!(!optional.matches("abc"));
        for unsupported in [
            "[a-z]+", "^(ab)+$", "^a|b$", "^.+$", "^\\d+$", "^[^a]$", "^a+?$", "^a{2$", "^[z-a]$",
            "^[ab$",
        ] {
            assert!(Pattern::compile(unsupported).is_err(), "{unsupported}");
        }
    }

    #[test]
    fn date_times_follow_rfc_3339() {
        for ok in [
            "2026-11-27T10:15:32Z",
            "2024-02-29T00:00:00z",
            "2026-11-27t23:59:60.123+01:00",
            "2026-11-27T10:15:32-05:30",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "2026-11-27",
            "2026-11-27 10:15:32Z",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-27T24:00:00Z",
            "2026-11-27T10:15:32",
            "2026-11-27T10:15:32.Z",
            "2026-11-27T10:15:32+0100",
            "2026-11-27T10:15:32+24:00",
            "２026-11-27T10:15:32Z",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }
}
