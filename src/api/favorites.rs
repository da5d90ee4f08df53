//! `GET/POST/PUT /api/users/{id}/favorites` and
//! `DELETE /api/users/{id}/favorites/{pokemon_id}`.

use super::{authorize, input, input_unless_user_gone, Page};
use crate::db::Db;
use crate::domain::{CursorKind, PokemonId, UserId};
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::store;
use http::StatusCode;

pub fn list(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    let (limit, cursor) =
        input_unless_user_gone(db, session, input::page(request, CursorKind::Favorites))?;
    let items = store::favorites::page(db, session, cursor.key(), limit.get() + 1)?;
    let page = Page::from_lookahead(items, limit, CursorKind::Favorites, |f| f.key);
    Reply::json(StatusCode::OK, &page)
}

pub fn add(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    let pokemon = input_unless_user_gone(db, session, input::one_pokemon(request))?;
    let favorite = store::favorites::add(db, session, pokemon)?;
    let location = format!("/api/users/{}/favorites/{}", owner.get(), pokemon.get());
    Ok(Reply::json(StatusCode::CREATED, &favorite)?.with_header("location", location))
}

pub fn replace(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    let ids = input_unless_user_gone(db, session, input::pokemon_ids(request))?;
    let items = store::favorites::replace(db, session, &ids)?;
    Reply::json(
        StatusCode::OK,
        &Page {
            items,
            next_cursor: None,
        },
    )
}

pub fn remove(request: &Request, db: &Db, owner: UserId, pokemon: PokemonId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    if !store::favorites::remove(db, session, pokemon)? {
        return Err(ApiError::NotFound(format!(
            "Pokémon {} is not a favorite",
            pokemon.get()
        )));
    }
    Ok(Reply::no_content())
}
