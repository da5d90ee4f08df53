//! `GET /api/pokemon` (search by name prefix, paginated) and `GET /api/pokemon/{id}`.

use super::wire::PokemonBody;
use super::{input, page_of};
use crate::db::Db;
use crate::domain::CursorKind;
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::store;
use http::StatusCode;

/// The longest search text worth running: no Pokémon name is longer.
const MAX_QUERY_CHARS: usize = 64;

pub fn search(request: &Request, db: &Db) -> Result<Reply> {
    let q = request.query_param("q")?;
    let prefix = match q.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
            return Err(ApiError::invalid(
                "q",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ))
        }
        Some(q) => Some(q),
    };
    let (limit, cursor) = input::page(request, CursorKind::Pokemon)?;
    let items = store::pokemon::search(db, prefix, cursor.key(), limit.get() + 1)?;
    let page = page_of(
        &items,
        limit,
        CursorKind::Pokemon,
        |p| p.id,
        PokemonBody::from,
    );
    Reply::json(StatusCode::OK, &page)
}

pub fn get(db: &Db, id: i64) -> Result<Reply> {
    let pokemon = store::pokemon::get(db, id)?
        .ok_or_else(|| ApiError::NotFound(format!("No Pokémon has the number {id}")))?;
    Reply::json(StatusCode::OK, &PokemonBody::from(&pokemon))
}
