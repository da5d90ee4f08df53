//! Reading a request's input into the validated types of [`crate::domain`]: the body,
//! the page parameters, and the values each body carries. Every failure here is the
//! client's (400, 413, 415 or 422).

use crate::domain::body::all_valid;
use crate::domain::credentials::{current_password, new_password};
use crate::domain::{
    Body, Cursor, CursorKind, IdempotencyKey, IfMatch, Limit, Password, PokemonId, UserId, Username,
};
use crate::error::{ApiError, Result};
use crate::http::Request;

/// The body as a JSON object: anything else is `400 malformed_json`.
pub fn body(request: &Request) -> Result<Body> {
    Body::new(request.json()?).ok_or(ApiError::MalformedJson("The body must be a JSON object"))
}

/// `?limit=&cursor=` of a page of `kind`.
pub fn page(request: &Request, kind: CursorKind) -> Result<(Limit, Cursor)> {
    let limit = Limit::parse(request.query_param("limit")?.as_deref())?;
    let cursor = Cursor::parse(request.query_param("cursor")?.as_deref(), kind)?;
    Ok((limit, cursor))
}

/// The register body `{"username", "password"}`.
pub fn credentials(request: &Request) -> Result<(Username, Password)> {
    Ok(body(request)?.credentials()?)
}

/// The body `{"pokemon_id": …}`.
pub fn one_pokemon(request: &Request) -> Result<PokemonId> {
    let body = body(request)?;
    Ok(PokemonId::from_json(
        body.field("pokemon_id")?,
        "pokemon_id",
    )?)
}

/// The body `{"pokemon_ids": […]}`.
pub fn pokemon_ids(request: &Request) -> Result<Vec<PokemonId>> {
    Ok(body(request)?.pokemon_id_list()?)
}

/// The password change body `{"current_password", "new_password"}`: the current one
/// any string (it is only compared), the new one by the password rules and not the
/// current one again.
pub fn password_change(request: &Request) -> Result<(Password, Password)> {
    let body = body(request)?;
    let (current, new) = all_valid(
        body.string("current_password").map(current_password),
        body.string("new_password"),
    )?;
    let new = new_password(new, &current)?;
    Ok((current, new))
}

/// `If-Match` on a write to `owner`'s favorites list. Only the store can tell whether
/// it matches, after the body's own checks (the catalog's among them): a malformed
/// value is judged there too, as a condition nothing meets.
pub fn if_match(request: &Request, owner: UserId) -> IfMatch {
    let values: Vec<&[u8]> = request.header_values("if-match").collect();
    IfMatch::parse(&values, owner)
}

/// `Idempotency-Key` on a favorites write: `None` without one; a malformed value, or two
/// fields, is `400 invalid_idempotency_key`.
pub fn idempotency_key(request: &Request) -> Result<Option<IdempotencyKey>> {
    let values: Vec<&[u8]> = request.header_values("idempotency-key").collect();
    IdempotencyKey::parse(&values).map_err(|_| ApiError::InvalidIdempotencyKey)
}
