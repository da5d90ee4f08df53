//! Ids: of a user (from a path or a token) and of a Pokémon (from a path or a body).

use super::{parse_positive, FieldError};
use serde_json::Value;

/// A user id: a positive 64-bit integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserId(i64);

impl UserId {
    /// Parses an id from a path segment or a token subject; `None` if it is not one.
    pub fn parse(text: &str) -> Option<UserId> {
        parse_positive(text).map(UserId)
    }

    pub fn from_db(id: i64) -> UserId {
        UserId(id)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// The highest national Pokédex number, the catalog's last: `migrations.sql` seeds
/// 1 to 1025, and never changes them (a unit test of `db::migrate` checks the two agree).
pub const MAX_POKEDEX: i64 = 1025;

/// A Pokédex number as a client sent it: a positive integer. Whether the catalog has it
/// is the store's question (`unknown_pokemon`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PokemonId(i64);

impl PokemonId {
    /// Parses an id from a path segment; `None` if it is not a positive integer.
    pub fn parse_segment(text: &str) -> Option<PokemonId> {
        parse_positive(text).map(PokemonId)
    }

    /// Parses the Pokédex number of a favorite from a path segment: `None` outside 1 to
    /// [`MAX_POKEDEX`] too, so that such a path names nothing (404) before any token or
    /// owner is looked at, as `openapi.json` says of `FavoritePokedexNumber`.
    pub fn parse_favorite_segment(text: &str) -> Option<PokemonId> {
        Self::parse_segment(text).filter(|id| id.get() <= MAX_POKEDEX)
    }

    /// Parses an id from a JSON value, naming `field` in the error.
    pub fn from_json(value: &Value, field: &str) -> Result<PokemonId, FieldError> {
        // JSON has one number type: `25.0` is the integer 25 to a client's serializer
        // (and to JSON Schema), so an integral float is accepted.
        let id = value.as_i64().or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        });
        match id {
            Some(id) if id > 0 => Ok(PokemonId(id)),
            _ => Err(FieldError::new(field, "must be a positive integer")),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_positive_integers_without_sign_or_leading_zero() {
        assert_eq!(UserId::parse("42").map(UserId::get), Some(42));
        for bad in [
            "0",
            "-1",
            "+1",
            "01",
            "1.0",
            "1e3",
            "",
            "9223372036854775808",
            "%31",
        ] {
            assert!(UserId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_pokemon_id_in_json_is_a_positive_integral_number() {
        assert_eq!(PokemonId::from_json(&json!(25), "id").unwrap().get(), 25);
        assert_eq!(PokemonId::from_json(&json!(25.0), "id").unwrap().get(), 25);
        for bad in [json!(0), json!(-4), json!(2.5), json!("1"), json!(null)] {
            assert!(PokemonId::from_json(&bad, "id").is_err(), "{bad}");
        }
    }
}
