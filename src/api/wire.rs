//! What the API sends back: the JSON shapes of `API.md`, made from the store's rows.
//! The store's types say what the database holds; these say what a client sees, so a
//! column can be added to a row without it showing up in an answer.

use crate::store::favorites::Favorite;
use crate::store::pokemon::Pokemon;
use crate::store::users::{NewUser, Profile};
use serde::Serialize;

/// A field of a store row as an answer shows it: numbers copied, text borrowed.
pub trait Shown<'a> {
    type As: Serialize;
    fn shown(&'a self) -> Self::As;
}

impl<'a> Shown<'a> for i64 {
    type As = i64;
    fn shown(&'a self) -> i64 {
        *self
    }
}

impl<'a> Shown<'a> for String {
    type As = &'a str;
    fn shown(&'a self) -> &'a str {
        self
    }
}

/// A response type that shows the named fields of a store row, and `From` the row.
macro_rules! shows {
    ($(#[$doc:meta])* $name:ident of $row:ty { $($field:ident: $kind:ty),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Serialize)]
        pub struct $name<'a> {
            $(pub $field: <$kind as Shown<'a>>::As),+
        }

        impl<'a> From<&'a $row> for $name<'a> {
            fn from(row: &'a $row) -> Self {
                $name { $($field: row.$field.shown()),+ }
            }
        }
    };
}

shows! {
    /// One favorite of a list.
    FavoriteBody of Favorite { pokemon_id: i64, name: String, added_at: String }
}

shows! {
    /// A user just registered.
    NewUserBody of NewUser { id: i64, username: String, created_at: String }
}

shows! {
    /// A user's profile.
    ProfileBody of Profile { id: i64, username: String, created_at: String, favorites_count: i64 }
}

shows! {
    /// A catalog entry.
    PokemonBody of Pokemon { id: i64, name: String }
}

/// A page of a list: its items and the cursor of the next page, `null` on the last.
#[derive(Serialize)]
pub struct PageBody<T: Serialize> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The answer to a login or a password change: a bearer token.
#[derive(Serialize)]
pub struct TokenBody<'a> {
    // In the order the answer has always had its keys.
    pub access_token: &'a str,
    pub expires_in: u64,
    pub token_type: &'static str,
}
