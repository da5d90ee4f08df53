//! What the API sends back: the JSON shapes of `API.md`, made from the store's rows.
//! The store's types say what the database holds; these say what a client sees, so a
//! column can be added to a row without it showing up in an answer.

use crate::store::favorites::Favorite;
use crate::store::pokemon::Pokemon;
use crate::store::users::{NewUser, Profile};
use serde::Serialize;

/// One favorite of a list.
#[derive(Serialize)]
pub struct FavoriteBody<'a> {
    pub pokemon_id: i64,
    pub name: &'a str,
    pub added_at: &'a str,
}

impl<'a> From<&'a Favorite> for FavoriteBody<'a> {
    fn from(favorite: &'a Favorite) -> Self {
        FavoriteBody {
            pokemon_id: favorite.pokemon_id,
            name: &favorite.name,
            added_at: &favorite.added_at,
        }
    }
}

/// A user just registered.
#[derive(Serialize)]
pub struct NewUserBody<'a> {
    pub id: i64,
    pub username: &'a str,
    pub created_at: &'a str,
}

impl<'a> From<&'a NewUser> for NewUserBody<'a> {
    fn from(user: &'a NewUser) -> Self {
        NewUserBody {
            id: user.id,
            username: &user.username,
            created_at: &user.created_at,
        }
    }
}

/// A user's profile.
#[derive(Serialize)]
pub struct ProfileBody<'a> {
    pub id: i64,
    pub username: &'a str,
    pub created_at: &'a str,
    pub favorites_count: i64,
}

impl<'a> From<&'a Profile> for ProfileBody<'a> {
    fn from(profile: &'a Profile) -> Self {
        ProfileBody {
            id: profile.id,
            username: &profile.username,
            created_at: &profile.created_at,
            favorites_count: profile.favorites_count,
        }
    }
}

/// A catalog entry.
#[derive(Serialize)]
pub struct PokemonBody<'a> {
    pub id: i64,
    pub name: &'a str,
}

impl<'a> From<&'a Pokemon> for PokemonBody<'a> {
    fn from(pokemon: &'a Pokemon) -> Self {
        PokemonBody {
            id: pokemon.id,
            name: &pokemon.name,
        }
    }
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
    pub access_token: &'a str,
    pub token_type: &'static str,
    pub expires_in: u64,
}
