//! `POST /api/auth/register`, `POST /api/auth/login` (throttled) and
//! `POST /api/auth/logout`.

use super::input;
use super::throttle::{client_address, count_failure, refuse_if_throttled};
use crate::db::Db;
use crate::domain::body::all_valid;
use crate::domain::Session;
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::store::logins;
use crate::{auth, config, store};
use http::StatusCode;
use serde_json::json;

/// Creates a user. The password is hashed before the database is touched, so the
/// write itself is one short statement.
pub fn register(request: &Request, db: &Db) -> Result<Reply> {
    let (username, password) = input::credentials(request)?;
    let hash = auth::hash_password(&password)?;
    let user = store::users::create(db, &username, &hash)?;
    let location = format!("/api/users/{}", user.id);
    Ok(Reply::json(StatusCode::CREATED, &user)?.with_header("location", location))
}

/// Trades a username and password for an access token. An unknown user, a wrong
/// password and a username that could never exist all get the same answer after the
/// same work. A name or an address with too many recent failures gets 429 before any
/// password work; a failure is counted against both, a success clears the name's.
pub fn login(request: &Request, db: &Db) -> Result<Reply> {
    let body = input::body(request)?;
    // Only the shape is checked: a name or password that breaks the registration rules
    // simply matches no one, and gets the same answer as any other failed login.
    let (username, password) = all_valid(body.string("username"), body.string("password"))?;
    // Read the configuration first: a broken one should not cost an Argon2 run.
    let secret = config::jwt_secret()?;
    let ttl = config::token_ttl_seconds()?;
    let limits = config::login_limits()?;
    let name_key = logins::name_key(username);
    let address_key = client_address(request, &limits);
    let state = store::users::login_lookup(db, username, &name_key, address_key.as_deref())?;
    refuse_if_throttled(&state.attempts, &limits)?;
    let stored = state.user.as_ref().map(|(_, hash)| hash.as_str());
    if !auth::verify_password(password.as_bytes(), stored) {
        count_failure(db, &name_key, address_key.as_deref(), &limits)?;
        return Err(ApiError::InvalidCredentials);
    }
    let (session, _) = state.user.ok_or(ApiError::InvalidCredentials)?;
    if state.attempts.name.failures > 0 {
        logins::clear(db, &name_key)?;
    }
    token_reply(&secret, session, ttl)
}

/// Signs the caller out everywhere: every token of theirs issued so far is dead.
pub fn logout(request: &Request, db: &Db) -> Result<Reply> {
    let session = auth::authenticate(request)?;
    store::users::sign_out(db, session)?;
    Ok(Reply::no_content())
}

/// The login answer: a token for `session`.
pub fn token_reply(secret: &[u8], session: Session, ttl: u64) -> Result<Reply> {
    let token = auth::issue_token(secret, session, ttl)?;
    Reply::json(
        StatusCode::OK,
        &json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl}),
    )
}
