//! `GET/POST/PUT /api/users/{id}/favorites` and
//! `DELETE /api/users/{id}/favorites/{pokemon_id}`.

use super::{authorize, parsed_for, Page};
use crate::db::Db;
use crate::domain::{pokemon_id_list, Body, Cursor, CursorKind, Limit, PokemonId, UserId};
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::store;

pub fn list(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let user = authorize(request, db, owner)?;
    let (limit, cursor) = parsed_for(db, user, page_params(request))?;
    let items = store::favorites::page(db, user, cursor.key(), limit.get() + 1)?
        .ok_or(ApiError::Unauthorized)?;
    let page = Page::from_lookahead(items, limit, CursorKind::Favorites, |f| f.key);
    Reply::json(200, &page)
}

pub fn add(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let user = authorize(request, db, owner)?;
    let pokemon = parsed_for(db, user, one_pokemon(request))?;
    let favorite = store::favorites::add(db, user, pokemon)?;
    let location = format!("/api/users/{}/favorites/{}", user.get(), pokemon.get());
    Ok(Reply::json(201, &favorite)?.with_header("location", location))
}

pub fn replace(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let user = authorize(request, db, owner)?;
    let ids = parsed_for(db, user, pokemon_ids(request))?;
    let items = store::favorites::replace(db, user, &ids)?;
    Reply::json(
        200,
        &Page {
            items,
            next_cursor: None,
        },
    )
}

pub fn remove(request: &Request, db: &Db, owner: UserId, pokemon: PokemonId) -> Result<Reply> {
    let user = authorize(request, db, owner)?;
    if !store::favorites::remove(db, user, pokemon)? {
        return Err(ApiError::NotFound(format!(
            "Pokémon {} is not a favorite",
            pokemon.get()
        )));
    }
    Ok(Reply::no_content())
}

/// `?limit=&cursor=` of a favorites page.
fn page_params(request: &Request) -> Result<(Limit, Cursor)> {
    let limit = Limit::parse(request.query_param("limit")?.as_deref())?;
    let cursor = Cursor::parse(
        request.query_param("cursor")?.as_deref(),
        CursorKind::Favorites,
    )?;
    Ok((limit, cursor))
}

/// The body `{"pokemon_id": …}`.
fn one_pokemon(request: &Request) -> Result<PokemonId> {
    let body = Body::from_json(request.json()?)?;
    Ok(PokemonId::from_json(
        body.field("pokemon_id")?,
        "pokemon_id",
    )?)
}

/// The body `{"pokemon_ids": […]}`.
fn pokemon_ids(request: &Request) -> Result<Vec<PokemonId>> {
    pokemon_id_list(&Body::from_json(request.json()?)?)
}
