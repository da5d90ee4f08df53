//! `GET /api/users/me`, `GET /api/users/{id}`, `DELETE /api/users/{id}`.

use super::authorize;
use crate::db::Db;
use crate::domain::UserId;
use crate::error::Result;
use crate::http::{Reply, Request};
use crate::{auth, store};
use http::StatusCode;

pub fn me(request: &Request, db: &Db) -> Result<Reply> {
    let user = auth::authenticate(request)?;
    profile(db, user)
}

pub fn get(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let user = authorize(request, db, owner)?;
    profile(db, user)
}

/// The profile of the authenticated user.
fn profile(db: &Db, user: UserId) -> Result<Reply> {
    Reply::json(StatusCode::OK, &store::users::profile(db, user)?)
}

pub fn delete(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let user = authorize(request, db, owner)?;
    store::users::delete(db, user)?;
    Ok(Reply::no_content())
}
