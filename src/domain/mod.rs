//! Validated values. Request input is parsed into these types before any handler logic
//! runs ("parse, don't validate"): a `Username` in hand is a valid username. Each parser
//! names the field it was given, so a failure is a [`FieldError`] that the API answers
//! as `422 validation_failed` with that field in `errors`.
//!
//! One file per group: [`ids`] (users, Pokémon), [`credentials`] (username, password, session),
//! [`paging`] (page size and cursor), [`tags`] (list versions and their entity tags),
//! [`body`] (a JSON object's fields and the lists in it), [`address`] (the client address
//! the limits count, and the trusted proxies), [`idempotency`] (`Idempotency-Key` and the
//! fingerprint of a keyed request). Reading a request into these lives in
//! `api::input`.

pub mod address;
pub mod body;
pub mod credentials;
pub mod idempotency;
pub mod ids;
pub mod paging;
pub mod tags;

pub use body::Body;
pub use credentials::{Password, Session, Username};
pub use idempotency::IdempotencyKey;
pub use ids::{PokemonId, UserId, MAX_POKEDEX};
pub use paging::{Cursor, CursorKind, Limit};
pub use tags::{IfMatch, ListVersion};

use serde::Serialize;

/// The most favorites one user may keep.
pub const MAX_FAVORITES: usize = 1000;

/// One field that broke a validation rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
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
