//! `GET/POST/PUT /api/users/{id}/favorites` and
//! `DELETE /api/users/{id}/favorites/{pokemon_id}`.
//!
//! Every answer about the list carries its version as a strong `ETag`. A read answers
//! 304 when `If-None-Match` holds it; a write takes `If-Match`, which the store checks
//! in the write itself (see `store::favorites`).

use super::session::Authorized;
use super::wire::{FavoriteBody, PageBody};
use super::{input, page_of};
use crate::db::Db;
use crate::domain::tags::{entity_tag, none_match_hits};
use crate::domain::{CursorKind, IfMatch, PokemonId, UserId};
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::store::favorites::Removed;
use crate::store::{self, StoreError};
use http::StatusCode;

pub fn list(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let caller = Authorized::owner(request, db, owner)?;
    let (limit, cursor) = caller.input(input::page(request, CursorKind::Favorites))?;
    let (version, items) =
        store::favorites::page(db, caller.session(), cursor.key(), limit.get() + 1)?;
    let tag = entity_tag(owner, version);
    let cached: Vec<&[u8]> = request.header_values("if-none-match").collect();
    if none_match_hits(&cached, &tag) {
        return Ok(Reply::not_modified().with_header("etag", tag));
    }
    let page = page_of(
        &items,
        limit,
        CursorKind::Favorites,
        |f| f.key,
        FavoriteBody::from,
    );
    Ok(Reply::json(StatusCode::OK, &page)?.with_header("etag", tag))
}

pub fn add(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let caller = Authorized::owner(request, db, owner)?;
    let pokemon = caller.input(input::one_pokemon(request))?;
    let expected = input::if_match(request, owner);
    let (favorite, version) = judged(
        &expected,
        store::favorites::add(db, caller.session(), pokemon, &expected),
    )?;
    let location = format!("/api/users/{}/favorites/{}", owner.get(), pokemon.get());
    Ok(
        Reply::json(StatusCode::CREATED, &FavoriteBody::from(&favorite))?
            .with_header("location", location)
            .with_header("etag", entity_tag(owner, version)),
    )
}

pub fn replace(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let caller = Authorized::owner(request, db, owner)?;
    let ids = caller.input(input::pokemon_ids(request))?;
    let expected = input::if_match(request, owner);
    let (version, items) = judged(
        &expected,
        store::favorites::replace(db, caller.session(), &ids, &expected),
    )?;
    let page = PageBody {
        items: items.iter().map(FavoriteBody::from).collect(),
        next_cursor: None,
    };
    Ok(Reply::json(StatusCode::OK, &page)?.with_header("etag", entity_tag(owner, version)))
}

pub fn remove(request: &Request, db: &Db, owner: UserId, pokemon: PokemonId) -> Result<Reply> {
    let caller = Authorized::owner(request, db, owner)?;
    let expected = input::if_match(request, owner);
    let removed = judged(
        &expected,
        store::favorites::remove(db, caller.session(), pokemon, &expected),
    )?;
    match removed {
        Removed::Gone(version) => {
            Ok(Reply::no_content().with_header("etag", entity_tag(owner, version)))
        }
        Removed::NotAFavorite => Err(ApiError::NotFound(format!(
            "Pokémon {} is not a favorite",
            pokemon.get()
        ))),
    }
}

/// The store's answer to a write, with a 412 that says what was wrong: a malformed
/// `If-Match` names no version at all; a well-formed one, versions the list is not at.
fn judged<T>(expected: &IfMatch, outcome: store::Result<T>) -> Result<T> {
    outcome.map_err(|err| match err {
        StoreError::PreconditionFailed if *expected == IfMatch::Malformed => {
            ApiError::PreconditionFailed("If-Match must be * or a list of quoted entity tags")
        }
        other => other.into(),
    })
}
