//! A JSON request body: an object whose fields are read by name, and the values the
//! API's bodies carry (credentials, a list of Pokémon ids).

use super::{FieldError, Password, PokemonId, Username, MAX_FAVORITES};
use serde_json::{Map, Value};

/// A JSON object, its fields read by name.
pub struct Body(Map<String, Value>);

impl Body {
    /// The object, or `None` for any other JSON value.
    pub fn new(value: Value) -> Option<Body> {
        match value {
            Value::Object(map) => Some(Body(map)),
            _ => None,
        }
    }

    /// A required field, or a field error saying it is missing.
    pub fn field(&self, name: &str) -> Result<&Value, FieldError> {
        match self.0.get(name) {
            Some(Value::Null) | None => Err(FieldError::new(name, "is required")),
            Some(value) => Ok(value),
        }
    }

    /// A required string field.
    pub fn string(&self, name: &str) -> Result<&str, FieldError> {
        self.field(name)?
            .as_str()
            .ok_or_else(|| FieldError::new(name, "must be a string"))
    }

    /// `{"username", "password"}`, both valid; every bad field is reported.
    pub fn credentials(&self) -> Result<(Username, Password), Vec<FieldError>> {
        all_valid(
            self.string("username").and_then(Username::parse),
            self.string("password").and_then(Password::parse),
        )
    }

    /// `{"pokemon_ids": [...]}`: at most [`MAX_FAVORITES`] distinct ids. Up to 20 bad
    /// items are reported, enough to act on: a 10 000-item list need not echo each one.
    pub fn pokemon_id_list(&self) -> Result<Vec<PokemonId>, Vec<FieldError>> {
        let field = "pokemon_ids";
        let items = self
            .field(field)
            .map_err(|err| vec![err])?
            .as_array()
            .ok_or_else(|| vec![FieldError::new(field, "must be an array of Pokémon ids")])?;
        if items.len() > MAX_FAVORITES {
            let message = format!("may hold at most {MAX_FAVORITES} ids");
            return Err(vec![FieldError::new(field, message)]);
        }
        let mut seen = std::collections::HashSet::with_capacity(items.len());
        let mut ids = Vec::with_capacity(items.len());
        let mut errors = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let name = format!("{field}[{index}]");
            match PokemonId::from_json(item, &name) {
                Ok(id) if !seen.insert(id) => {
                    errors.push(FieldError::new(name, format!("repeats id {}", id.get())))
                }
                Ok(id) => ids.push(id),
                Err(err) => errors.push(err),
            }
            if errors.len() >= 20 {
                break;
            }
        }
        if errors.is_empty() {
            Ok(ids)
        } else {
            Err(errors)
        }
    }
}

/// Both parses, or the field errors of every one that failed.
pub fn all_valid<A, B>(
    a: Result<A, FieldError>,
    b: Result<B, FieldError>,
) -> Result<(A, B), Vec<FieldError>> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err([a.err(), b.err()].into_iter().flatten().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_must_be_an_object() {
        assert!(Body::new(json!([1, 2])).is_none());
        assert!(Body::new(json!("x")).is_none());
        assert!(Body::new(json!({})).is_some());
    }

    #[test]
    fn credentials_report_every_bad_field() {
        let body = Body::new(json!({"username": 7, "password": "short"})).unwrap();
        let errors = body.credentials().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["username", "password"]);
    }

    #[test]
    fn pokemon_id_lists_refuse_duplicates_non_integers_and_overlong_lists() {
        let parse = |v| {
            Body::new(json!({ "pokemon_ids": v }))
                .unwrap()
                .pokemon_id_list()
        };
        assert_eq!(parse(json!([1, 4, 7])).unwrap().len(), 3);
        assert_eq!(parse(json!([25.0])).unwrap()[0].get(), 25);
        assert!(parse(json!([])).unwrap().is_empty());
        for bad in [
            json!([1, 1]),
            json!([1, 2.5]),
            json!(["1"]),
            json!([0]),
            json!([-4]),
            json!(null),
            json!(3),
            json!((1..=1001).collect::<Vec<_>>()),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_long_bad_list_reports_twenty_items() {
        let list: Vec<i64> = vec![-1; 500];
        let errors = Body::new(json!({ "pokemon_ids": list }))
            .unwrap()
            .pokemon_id_list()
            .unwrap_err();
        assert_eq!(errors.len(), 20);
    }
}
