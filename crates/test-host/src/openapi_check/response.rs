//! One answer against the document: the operation a request hit (or the rules for paths
//! and methods it does not list), the response documented for the status, its media
//! type, headers and body. HEAD answers are held to GET's response without its body.

use serde_json::Value;

use super::document::{component, is_template_param, match_path, resolve, strip_query, METHODS};
use super::schema::validate_schema;

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
