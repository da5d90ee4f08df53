//! One value against one schema: JSON Schema draft 2020-12 by the `jsonschema` crate,
//! with formats asserted, OpenAPI's integer formats turned into bounds, and compiled
//! validators kept for the next check of the same schema.

use jsonschema::{Draft, Validator};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

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

/// Whether `schema` compiles within `doc` (a malformed keyword value or pattern, an
/// unknown format or a `$ref` to nothing does not); the error says why not.
pub fn schema_compiles(doc: &Value, schema: &Value) -> Result<(), String> {
    validator(doc, schema).map(drop)
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
