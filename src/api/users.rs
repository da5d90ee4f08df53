//! `GET /api/users/me`, `GET /api/users/{id}`, `DELETE /api/users/{id}` and
//! `PUT /api/users/{id}/password`.

use super::auth::token_reply;
use super::input;
use super::session::Authorized;
use super::throttle::admit_login;
use super::wire::ProfileBody;
use crate::db::Db;
use crate::domain::UserId;
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::{auth, config, store};
use http::StatusCode;

pub fn me(request: &Request, db: &Db) -> Result<Reply> {
    profile(db, Authorized::caller(request, db)?)
}

pub fn get(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    profile(db, Authorized::owner(request, db, owner)?)
}

/// The profile of the authenticated user.
fn profile(db: &Db, caller: Authorized) -> Result<Reply> {
    let profile = store::users::profile(db, caller.session())?;
    Reply::json(StatusCode::OK, &ProfileBody::from(&profile))
}

pub fn delete(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let caller = Authorized::owner(request, db, owner)?;
    store::users::delete(db, caller.session())?;
    Ok(Reply::no_content())
}

/// Changes the password and answers a fresh token; every earlier token of the user
/// (the one used for this call included) is dead afterwards. A wrong current password
/// is 403 and counts as a failed login of the user's name: the attempt is counted before
/// the check, exactly as a login's, so guessing through this route is throttled like
/// guessing through login (and refused with 429 the same way, before any password work).
pub fn change_password(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let caller = Authorized::owner(request, db, owner)?;
    let (current, new) = caller.input(input::password_change(request))?;
    let limits = config::login_limits()?;
    let state = store::users::password_lookup(db, caller.session())?;
    let admitted = admit_login(request, db, &state.username, &limits)?;
    if !auth::verify_password(current.as_bytes(), Some(&state.password_hash)) {
        return Err(ApiError::WrongPassword);
    }
    admitted.succeeded(db)?;
    // The token's settings are read only now: a wrong password needs neither. (The
    // secret was good a moment ago, when it verified the caller's token.)
    let secret = config::jwt_secret()?;
    let ttl = config::token_ttl_seconds()?;
    let hash = auth::hash_password(&new)?;
    let session = store::users::set_password(db, caller.session(), &hash)?;
    token_reply(&secret, session, ttl)
}
