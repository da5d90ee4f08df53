//! `GET /api/users/me`, `GET /api/users/{id}`, `DELETE /api/users/{id}` and
//! `PUT /api/users/{id}/password`.

use super::auth::token_reply;
use super::throttle::{client_address, count_failure, refuse_if_throttled};
use super::{authorize, input, input_unless_user_gone};
use crate::db::Db;
use crate::domain::{Session, UserId};
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::store::logins;
use crate::{auth, config, store};
use http::StatusCode;

pub fn me(request: &Request, db: &Db) -> Result<Reply> {
    let session = auth::authenticate(request)?;
    profile(db, session)
}

pub fn get(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    profile(db, session)
}

/// The profile of the authenticated user.
fn profile(db: &Db, session: Session) -> Result<Reply> {
    Reply::json(StatusCode::OK, &store::users::profile(db, session)?)
}

pub fn delete(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    store::users::delete(db, session)?;
    Ok(Reply::no_content())
}

/// Changes the password and answers a fresh token; every earlier token of the user
/// (the one used for this call included) is dead afterwards. A wrong current password
/// is 403 and counts as a failed login of the user's name, so guessing through this
/// route is throttled like guessing through login (and refused with 429 the same way,
/// before any password work).
pub fn change_password(request: &Request, db: &Db, owner: UserId) -> Result<Reply> {
    let session = authorize(request, db, owner)?;
    let (current, new) = input_unless_user_gone(db, session, input::password_change(request))?;
    let limits = config::login_limits()?;
    let address_key = client_address(request, &limits);
    let state = store::users::password_lookup(db, session, address_key.as_deref())?;
    refuse_if_throttled(&state.attempts, &limits)?;
    if !auth::verify_password(current.as_bytes(), Some(&state.password_hash)) {
        let name_key = logins::name_key(&state.username);
        count_failure(db, &name_key, address_key.as_deref(), &limits)?;
        return Err(ApiError::WrongPassword);
    }
    // The token's settings are read only now: a wrong password needs neither. (The
    // secret was good a moment ago, when it verified the caller's token.)
    let secret = config::jwt_secret()?;
    let ttl = config::token_ttl_seconds()?;
    let hash = auth::hash_password(&new)?;
    let session = store::users::set_password(db, session, &hash)?;
    token_reply(&secret, session, ttl)
}
