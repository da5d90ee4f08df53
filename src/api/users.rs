//! `GET /api/users/me`, `GET /api/users/{id}`, `DELETE /api/users/{id}`.

use super::authorize;
use crate::db::Db;
use crate::domain::UserId;
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::{auth, store};

pub fn me(request: &Request, db: &Db) -> Result<Reply> {
    let user = auth::authenticate(request)?;
    profile(db, user)
}

pub fn get(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let user = authorize(request, db, owner)?;
    profile(db, user)
}

/// The profile of the authenticated user; if their row is gone, so is their token.
fn profile(db: &Db, user: UserId) -> Result<Reply> {
    let profile = store::users::profile(db, user)?.ok_or(ApiError::Unauthorized)?;
    Reply::json(200, &profile)
}

pub fn delete(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let user = authorize(request, db, owner)?;
    if !store::users::delete(db, user)? {
        return Err(ApiError::Unauthorized);
    }
    Ok(Reply::no_content())
}
