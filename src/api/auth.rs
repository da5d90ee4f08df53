//! `POST /api/auth/register` and `POST /api/auth/login`.

use super::input;
use crate::db::Db;
use crate::domain::body::all_valid;
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
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
/// same work.
pub fn login(request: &Request, db: &Db) -> Result<Reply> {
    let body = input::body(request)?;
    // Only the shape is checked: a name or password that breaks the registration rules
    // simply matches no one, and gets the same answer as any other failed login.
    let (username, password) = all_valid(body.string("username"), body.string("password"))?;
    // Read the configuration first: a broken one should not cost an Argon2 run.
    let secret = config::jwt_secret()?;
    let ttl = config::token_ttl_seconds()?;
    let found = if username.len() <= 32 {
        store::users::login_lookup(db, username)?
    } else {
        None
    };
    let stored = found.as_ref().map(|(_, hash)| hash.as_str());
    if !auth::verify_password(password.as_bytes(), stored) {
        return Err(ApiError::InvalidCredentials);
    }
    let (user, _) = found.ok_or(ApiError::InvalidCredentials)?;
    let token = auth::issue_token(&secret, user, ttl)?;
    Reply::json(
        StatusCode::OK,
        &json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl}),
    )
}
