//! `GET/POST/PUT /api/users/{id}/favorites` and
//! `DELETE /api/users/{id}/favorites/{pokemon_id}`.
//!
//! Every answer about the list carries its version as a strong `ETag`. A read answers
//! 304 when `If-None-Match` holds it; a write takes `If-Match`, which the store checks
//! in the write itself (see `store::favorites`).
//!
//! A write with an `Idempotency-Key` runs the store's keyed variant, which stores its
//! answer with the change (see `store::idempotency`); its answer, the first time and on
//! every replay, is the stored one.

use super::session::Authorized;
use super::wire::{FavoriteBody, PageBody};
use super::{input, page_of};
use crate::db::Db;
use crate::domain::idempotency::fingerprint;
use crate::domain::tags::{entity_tag, none_match_hits};
use crate::domain::{CursorKind, IdempotencyKey, IfMatch, PokemonId, UserId};
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::store::favorites::Removed;
use crate::store::idempotency::{Answer, Keyed};
use crate::store::{self, StoreError};
use http::{Method, StatusCode};

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
    let key = caller.input(input::idempotency_key(request))?;
    let pokemon = caller.input(input::one_pokemon(request))?;
    let expected = input::if_match(request, owner);
    let location = favorite_path(owner, pokemon);
    if let Some(key) = &key {
        let body = pokemon.get().to_string();
        let keyed = keyed(key, Method::POST, list_path(owner), body)
            .answering(StatusCode::CREATED, Some(location));
        let answer = store::favorites::add_keyed(db, caller.session(), pokemon, &expected, &keyed);
        return answered(owner, judged(&expected, answer)?);
    }
    let (favorite, version) = judged(
        &expected,
        store::favorites::add(db, caller.session(), pokemon, &expected),
    )?;
    Ok(
        Reply::json(StatusCode::CREATED, &FavoriteBody::from(&favorite))?
            .with_header("location", location)
            .with_header("etag", entity_tag(owner, version)),
    )
}

pub fn replace(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let caller = Authorized::owner(request, db, owner)?;
    let key = caller.input(input::idempotency_key(request))?;
    let ids = caller.input(input::pokemon_ids(request))?;
    let expected = input::if_match(request, owner);
    if let Some(key) = &key {
        let list: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        let body = serde_json::to_string(&list).map_err(ApiError::internal)?;
        let keyed = keyed(key, Method::PUT, list_path(owner), body).answering(StatusCode::OK, None);
        let answer = store::favorites::replace_keyed(db, caller.session(), &ids, &expected, &keyed);
        return answered(owner, judged(&expected, answer)?);
    }
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
    let key = caller.input(input::idempotency_key(request))?;
    let expected = input::if_match(request, owner);
    if let Some(key) = &key {
        let path = favorite_path(owner, pokemon);
        let keyed =
            keyed(key, Method::DELETE, path, String::new()).answering(StatusCode::NO_CONTENT, None);
        let answer =
            store::favorites::remove_keyed(db, caller.session(), pokemon, &expected, &keyed);
        return match judged(&expected, answer)? {
            Some(answer) => answered(owner, answer),
            None => Err(not_a_favorite(pokemon)),
        };
    }
    let removed = judged(
        &expected,
        store::favorites::remove(db, caller.session(), pokemon, &expected),
    )?;
    match removed {
        Removed::Gone(version) => {
            Ok(Reply::no_content().with_header("etag", entity_tag(owner, version)))
        }
        Removed::NotAFavorite => Err(not_a_favorite(pokemon)),
    }
}

fn not_a_favorite(pokemon: PokemonId) -> ApiError {
    ApiError::NotFound(format!("Pokémon {} is not a favorite", pokemon.get()))
}

/// The path of `owner`'s list.
fn list_path(owner: UserId) -> String {
    format!("/api/users/{}/favorites", owner.get())
}

/// The path of one favorite (an add's `Location`).
fn favorite_path(owner: UserId, pokemon: PokemonId) -> String {
    format!("/api/users/{}/favorites/{}", owner.get(), pokemon.get())
}

/// A keyed request, by what makes it the same request: its method, its path, and its
/// body as parsed (`body`: compact, one spelling per request).
fn keyed(key: &IdempotencyKey, method: Method, path: String, body: String) -> KeyedRequest<'_> {
    KeyedRequest {
        key,
        fingerprint: fingerprint(method.as_str(), &path, &body),
    }
}

/// A key and its request's fingerprint, waiting for the answer's status and `Location`.
struct KeyedRequest<'a> {
    key: &'a IdempotencyKey,
    fingerprint: String,
}

impl<'a> KeyedRequest<'a> {
    fn answering(self, status: StatusCode, location: Option<String>) -> Keyed<'a> {
        Keyed {
            key: self.key,
            fingerprint: self.fingerprint,
            status: status.as_u16(),
            location,
        }
    }
}

/// The answer of a keyed write: the one stored with the change, with
/// `Idempotent-Replayed: true` when an earlier request made it.
fn answered(owner: UserId, answer: Answer) -> Result<Reply> {
    let (stored, replayed) = match answer {
        Answer::Decided(stored) => (stored, false),
        Answer::Replayed(stored) => (stored, true),
    };
    let status = StatusCode::from_u16(stored.status).map_err(ApiError::internal)?;
    let mut reply = Reply::stored(status, stored.body);
    if let Some(location) = stored.location {
        reply = reply.with_header("location", location);
    }
    reply = reply.with_header("etag", entity_tag(owner, stored.version));
    if replayed {
        reply = reply.with_header("idempotent-replayed", "true".into());
    }
    Ok(reply)
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
