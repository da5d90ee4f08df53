//! `GET/POST/PUT /api/users/{id}/favorites` and
//! `DELETE /api/users/{id}/favorites/{pokemon_id}`.
//!
//! Every answer about the list carries its version as a strong `ETag`. A read answers
//! 304 when `If-None-Match` holds it; a write takes `If-Match`, which the store checks
//! in the write itself (see `store::favorites`).

use super::{authorize, input, input_unless_user_gone, Page};
use crate::db::Db;
use crate::domain::tags::{entity_tag, none_match_hits};
use crate::domain::{CursorKind, IfMatch, ListVersion, PokemonId, UserId};
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::store::{self, StoreError};
use http::StatusCode;

pub fn list(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    let (limit, cursor) =
        input_unless_user_gone(db, session, input::page(request, CursorKind::Favorites))?;
    let (version, items) = store::favorites::page(db, session, cursor.key(), limit.get() + 1)?;
    let tag = entity_tag(owner, version);
    let cached: Vec<&[u8]> = request.header_values("if-none-match").collect();
    if none_match_hits(&cached, &tag) {
        return Ok(Reply::not_modified().with_header("etag", tag));
    }
    let page = Page::from_lookahead(items, limit, CursorKind::Favorites, |f| f.key);
    Ok(Reply::json(StatusCode::OK, &page)?.with_header("etag", tag))
}

pub fn add(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    let pokemon = input_unless_user_gone(db, session, input::one_pokemon(request))?;
    let expected = input::if_match(request, owner);
    let (favorite, version) = judged(
        &expected,
        store::favorites::add(db, session, pokemon, &expected),
    )?;
    let location = format!("/api/users/{}/favorites/{}", owner.get(), pokemon.get());
    Ok(Reply::json(StatusCode::CREATED, &favorite)?
        .with_header("location", location)
        .with_header("etag", entity_tag(owner, version)))
}

pub fn replace(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    let ids = input_unless_user_gone(db, session, input::pokemon_ids(request))?;
    let expected = input::if_match(request, owner);
    let (version, items) = judged(
        &expected,
        store::favorites::replace(db, session, &ids, &expected),
    )?;
    let page = Page {
        items,
        next_cursor: None,
    };
    Ok(Reply::json(StatusCode::OK, &page)?.with_header("etag", entity_tag(owner, version)))
}

pub fn remove(request: &Request, db: &Db, owner: UserId, pokemon: PokemonId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    let expected = input::if_match(request, owner);
    let removed: Option<ListVersion> = judged(
        &expected,
        store::favorites::remove(db, session, pokemon, &expected),
    )?;
    let Some(version) = removed else {
        return Err(ApiError::NotFound(format!(
            "Pokémon {} is not a favorite",
            pokemon.get()
        )));
    };
    Ok(Reply::no_content().with_header("etag", entity_tag(owner, version)))
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
