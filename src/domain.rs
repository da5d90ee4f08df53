//! Validated values. Request input is parsed into these types before any handler logic
//! runs ("parse, don't validate"): a `Username` in hand is a valid username. Each parser
//! names the field it was given, so a failure becomes `422 validation_failed` with that
//! field in `errors`.

use crate::error::{ApiError, FieldError, Result};
use serde_json::{Map, Value};

/// The most favorites one user may keep.
pub const MAX_FAVORITES: usize = 1000;

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

/// A username: 3–32 characters of `A-Z a-z 0-9 _ . -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Username, FieldError> {
        let length = text.chars().count();
        if !(3..=32).contains(&length) {
            return Err(FieldError::new("username", "must be 3 to 32 characters"));
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(FieldError::new(
                "username",
                "may only contain letters A-Z and a-z, digits, '_', '.' and '-'",
            ));
        }
        Ok(Username(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password: 8–128 Unicode scalar values. Never logged, never echoed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    pub fn parse(text: &str) -> Result<Password, FieldError> {
        let length = text.chars().count();
        if !(8..=128).contains(&length) {
            return Err(FieldError::new("password", "must be 8 to 128 characters"));
        }
        Ok(Password(text.to_string()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A Pokédex number as a client sent it: a positive integer. Whether the catalog has it
/// is the store's question (`unknown_pokemon`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PokemonId(i64);

impl PokemonId {
    /// Parses an id from a path segment; `None` if it is not a positive integer.
    pub fn parse_segment(text: &str) -> Option<PokemonId> {
        parse_positive(text).map(PokemonId)
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

/// A page size: 1–200, 50 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    pub const DEFAULT: Limit = Limit(50);

    pub fn parse(text: Option<&str>) -> Result<Limit, FieldError> {
        let Some(text) = text else {
            return Ok(Limit::DEFAULT);
        };
        match parse_positive(text) {
            Some(n) if n <= 200 => Ok(Limit(n as u32)),
            _ => Err(FieldError::new("limit", "must be an integer from 1 to 200")),
        }
    }

    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

/// Which list a cursor belongs to, so a cursor of one list is refused by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    Favorites,
    Pokemon,
}

impl CursorKind {
    fn tag(self) -> char {
        match self {
            CursorKind::Favorites => 'f',
            CursorKind::Pokemon => 'p',
        }
    }
}

/// An opaque page cursor: the key of the last item of the previous page, after which
/// the next page starts. Encoded as unpadded base64url so clients treat it as opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(i64);

impl Cursor {
    pub fn after(key: i64) -> Cursor {
        Cursor(key)
    }

    /// The key after which the page starts (0 for the first page).
    pub fn key(self) -> i64 {
        self.0
    }

    pub fn encode(self, kind: CursorKind) -> String {
        base64url_encode(format!("{}{}", kind.tag(), self.0).as_bytes())
    }

    /// Parses the `cursor` query parameter; absent means the first page.
    pub fn parse(text: Option<&str>, kind: CursorKind) -> Result<Cursor, FieldError> {
        let Some(text) = text else {
            return Ok(Cursor(0));
        };
        let invalid = || FieldError::new("cursor", "is not a cursor from a previous page");
        let decoded = base64url_decode(text).ok_or_else(invalid)?;
        let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
        let key = decoded
            .strip_prefix(kind.tag())
            .and_then(parse_positive)
            .ok_or_else(invalid)?;
        Ok(Cursor(key))
    }
}

/// A positive i64 written in plain decimal digits, no sign and no leading zero.
fn parse_positive(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.starts_with('0') {
        return None;
    }
    text.parse::<i64>().ok().filter(|n| *n > 0)
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(BASE64URL[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 || text.len() > 64 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = BASE64URL.iter().position(|b| b == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
        // Reject non-canonical encodings: the unused low bits must be zero.
        let used_bits = 8 * (chunk.len() - 1);
        if chunk.len() < 4 && n & ((1 << (24 - used_bits)) - 1) != 0 {
            return None;
        }
    }
    Some(out)
}

/// A JSON request body: an object whose fields are read by name.
pub struct Body(Map<String, Value>);

impl Body {
    /// Takes the parsed JSON; anything but an object is `400 malformed_json`.
    pub fn from_json(value: Value) -> Result<Body> {
        match value {
            Value::Object(map) => Ok(Body(map)),
            _ => Err(ApiError::MalformedJson("The body must be a JSON object")),
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
}

/// Collects the field errors of several parses into one `422`.
pub fn all_valid<A, B>(a: Result<A, FieldError>, b: Result<B, FieldError>) -> Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(ApiError::Validation(
            [a.err(), b.err()].into_iter().flatten().collect(),
        )),
    }
}

/// The register body: `{"username", "password"}`, both valid.
pub fn credentials(body: &Body) -> Result<(Username, Password)> {
    all_valid(
        body.string("username").and_then(Username::parse),
        body.string("password").and_then(Password::parse),
    )
}

/// The `PUT` favorites body: `{"pokemon_ids": [...]}`, at most 1000 distinct ids.
pub fn pokemon_id_list(body: &Body) -> Result<Vec<PokemonId>> {
    let field = "pokemon_ids";
    let items = body
        .field(field)?
        .as_array()
        .ok_or_else(|| ApiError::invalid(field, "must be an array of Pokémon ids"))?;
    if items.len() > MAX_FAVORITES {
        return Err(ApiError::invalid(
            field,
            format!("may hold at most {MAX_FAVORITES} ids"),
        ));
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
            break; // enough to act on; a 10 000-element list need not echo every item
        }
    }
    if errors.is_empty() {
        Ok(ids)
    } else {
        Err(ApiError::Validation(errors))
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        ApiError::Validation(vec![err])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usernames_follow_the_contract() {
        for ok in ["ash", "Misty_99", "a.b-c", &"x".repeat(32)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ab",
            &"x".repeat(33),
            "ash ketchum",
            "pikachu!",
            "ésa",
            "a'b",
            "x;--",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_count_unicode_scalar_values_not_bytes() {
        assert!(Password::parse("ピカチュウピカチュ").is_ok()); // 9 chars, 27 bytes
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"é".repeat(129)).is_err());
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = Password::parse("hunter2-secret").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }

    #[test]
    fn limits_default_to_50_and_stay_within_1_to_200() {
        assert_eq!(Limit::parse(None).unwrap().get(), 50);
        assert_eq!(Limit::parse(Some("1")).unwrap().get(), 1);
        assert_eq!(Limit::parse(Some("200")).unwrap().get(), 200);
        for bad in [
            "0",
            "201",
            "-1",
            "abc",
            "",
            "1.5",
            "01",
            "99999999999999999999",
        ] {
            assert!(Limit::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_belong_to_one_list() {
        for key in [1, 25, 1024, i64::MAX] {
            let text = Cursor::after(key).encode(CursorKind::Favorites);
            assert_eq!(
                Cursor::parse(Some(&text), CursorKind::Favorites)
                    .unwrap()
                    .key(),
                key
            );
            assert!(Cursor::parse(Some(&text), CursorKind::Pokemon).is_err());
        }
    }

    #[test]
    fn garbage_cursors_are_refused() {
        for bad in [
            "",
            "!!!!",
            "Zg",
            "cDA",
            "cC0x",
            "a",
            "cDE=",
            &"A".repeat(100),
        ] {
            assert!(
                Cursor::parse(Some(bad), CursorKind::Pokemon).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn base64url_matches_the_standard_alphabet() {
        assert_eq!(base64url_encode(b"f"), "Zg");
        assert_eq!(base64url_encode(b"fo"), "Zm8");
        assert_eq!(base64url_encode(b"foo"), "Zm9v");
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url_decode("Zm9vYg").unwrap(), b"foob");
    }

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
    fn a_body_must_be_an_object() {
        assert!(Body::from_json(json!([1, 2])).is_err());
        assert!(Body::from_json(json!("x")).is_err());
        assert!(Body::from_json(json!({})).is_ok());
    }

    #[test]
    fn credentials_report_every_bad_field() {
        let body = Body::from_json(json!({"username": 7, "password": "short"})).unwrap();
        match credentials(&body) {
            Err(ApiError::Validation(errors)) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["username", "password"]);
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn pokemon_id_lists_refuse_duplicates_non_integers_and_overlong_lists() {
        let parse = |v| pokemon_id_list(&Body::from_json(json!({ "pokemon_ids": v })).unwrap());
        assert_eq!(parse(json!([1, 4, 7])).unwrap().len(), 3);
        assert_eq!(parse(json!([25.0])).unwrap(), [PokemonId(25)]);
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
}
