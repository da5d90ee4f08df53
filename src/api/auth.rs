//! `POST /api/auth/register`, `POST /api/auth/login` (throttled) and
//! `POST /api/auth/logout`.

use super::input;
use super::session::Authorized;
use super::throttle::{admit_login, admit_registration};
use super::wire::{NewUserBody, TokenBody};
use crate::db::Db;
use crate::domain::body::all_valid;
use crate::domain::{Session, Username};
use crate::error::{ApiError, Result};
use crate::http::{Reply, Request};
use crate::{auth, config, store};
use http::StatusCode;

/// Creates a user. In order, each step before any password work: the body, the
/// registration limit of the client address (429, contract v3), whether the name is
/// taken (409). Only then is the password hashed; the insert is one short statement, and
/// its `UNIQUE` index still decides two registrations of one name that race.
pub fn register(request: &Request, db: &Db) -> Result<Reply> {
    let (username, password) = input::credentials(request)?;
    let limits = config::register_limits()?;
    admit_registration(request, db, &limits)?;
    if store::users::name_is_taken(db, &username)? {
        return Err(ApiError::UsernameTaken);
    }
    let hash = auth::hash_password(&password)?;
    let user = store::users::create(db, &username, &hash)?;
    let location = format!("/api/users/{}", user.id);
    Ok(Reply::json(StatusCode::CREATED, &NewUserBody::from(&user))?
        .with_header("location", location))
}

/// Trades a username and password for an access token. An unknown user, a wrong
/// password and a username that could never exist all get the same answer after the
/// same work. The attempt is counted against the name and the address before anything
/// else is read, and one over a limit gets 429 without any password work; a failure
/// stays counted, a success clears the name's failures and gives the address its
/// attempt back.
pub fn login(request: &Request, db: &Db) -> Result<Reply> {
    let body = input::body(request)?;
    // Only the shape is checked: a name or password that breaks the registration rules
    // simply matches no one, and gets the same answer as any other failed login.
    let (username, password) = all_valid(body.string("username"), body.string("password"))?;
    // Read the configuration first: a broken one should not cost an Argon2 run.
    let secret = config::jwt_secret()?;
    let ttl = config::token_ttl_seconds()?;
    let limits = config::login_limits()?;
    let admitted = admit_login(request, db, username, &limits)?;
    // A name no user can have needs no read: it matches no one.
    let user = match Username::parse(username) {
        Ok(_) => store::users::login_lookup(db, username)?,
        Err(_) => None,
    };
    // An unknown name is checked against a dummy hash: the same work, the same answer.
    let stored = user.as_ref().map(|(_, hash)| hash.as_str());
    let verified = auth::verify_password(password.as_bytes(), stored);
    let Some((session, _)) = user.filter(|_| verified) else {
        return Err(ApiError::InvalidCredentials);
    };
    admitted.succeeded(db)?;
    token_reply(&secret, session, ttl)
}

/// Signs the caller out everywhere: every token of theirs issued so far is dead.
pub fn logout(request: &Request, db: &Db) -> Result<Reply> {
    let caller = Authorized::caller(request, db)?;
    store::users::sign_out(db, caller.session())?;
    Ok(Reply::no_content())
}

/// The login answer: a token for `session`.
pub fn token_reply(secret: &[u8], session: Session, ttl: u64) -> Result<Reply> {
    let token = auth::issue_token(secret, session, ttl)?;
    let body = TokenBody {
        access_token: &token,
        expires_in: ttl,
        token_type: "Bearer",
    };
    Reply::json(StatusCode::OK, &body)
}
