//! Who is asking: the bearer token of a request, and the guard a handler gets once it
//! knows the caller may act.
//!
//! Two rules every authenticated route follows, settled here once:
//!
//! - **A dead token outranks everything after it.** A token whose user was deleted, or
//!   signed out everywhere, or changed password since it was issued is 401 wherever it
//!   is used: before a 403 for another user's resources, and before a 422 for a bad
//!   body. Finding out costs a read, so it happens only on those refusal paths; on the
//!   normal path the route's own statement checks the session (see `store`).
//! - **One's own resources only.** A token for another user is 403.

use crate::db::Db;
use crate::domain::{Session, UserId};
use crate::error::{ApiError, Result};
use crate::http::Request;
use crate::store::{self, StoreError};

/// A caller whose token verified, and who may act on the resources of the route.
pub struct Authorized<'a> {
    session: Session,
    db: &'a Db,
}

impl<'a> Authorized<'a> {
    /// The caller, whoever they are (`/api/users/me`, logout).
    pub fn caller(request: &Request, db: &'a Db) -> Result<Authorized<'a>> {
        Ok(Authorized {
            session: authenticate(request)?,
            db,
        })
    }

    /// The caller, if they are `owner`: another user's token is 403, a dead one 401.
    pub fn owner(request: &Request, db: &'a Db, owner: UserId) -> Result<Authorized<'a>> {
        let caller = Authorized::caller(request, db)?;
        if caller.session.user == owner {
            return Ok(caller);
        }
        caller.unless_dead(ApiError::Forbidden)
    }

    /// The session the token speaks for: whether it is still live is the question of
    /// the route's own statement.
    pub fn session(&self) -> Session {
        self.session
    }

    /// The request's input, as a handler parsed it: if it failed, the failure, unless
    /// the token is dead (401 before 422).
    pub fn input<T>(&self, parsed: Result<T>) -> Result<T> {
        match parsed {
            Ok(value) => Ok(value),
            Err(err) => self.unless_dead(err),
        }
    }

    /// `refusal`, or 401 if the token is dead.
    fn unless_dead<T>(&self, refusal: ApiError) -> Result<T> {
        match store::users::session_is_live(self.db, self.session)? {
            true => Err(refusal),
            false => Err(StoreError::UserGone.into()),
        }
    }
}

/// The bearer token of a request: exactly one `Authorization` header saying
/// `Bearer <token>`. Two headers are ambiguous and refused.
pub fn bearer_token(request: &Request) -> Result<&str> {
    let mut values = request.header_values("authorization");
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::Unauthorized);
    };
    let value = std::str::from_utf8(value).map_err(|_| ApiError::Unauthorized)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(ApiError::Unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::Unauthorized);
    }
    Ok(token)
}

/// The session a request's token speaks for, if the token verifies.
fn authenticate(request: &Request) -> Result<Session> {
    let token = bearer_token(request)?;
    let secret = crate::config::jwt_secret()?;
    crate::auth::verify_token(&secret, token).ok_or(ApiError::Unauthorized)
}
